"""Triggers: what starts a capture. Each calls `fire(TriggerEvent)` from its own thread,
which only enqueues; one worker in `edge.app` runs the captures."""
