"""The interval trigger fires on its own thread and stops when closed."""

from __future__ import annotations

import queue

from edge.ports import TriggerEvent
from edge.triggers.interval import IntervalTrigger


def test_fires_repeatedly_then_stops() -> None:
    events: queue.Queue[TriggerEvent] = queue.Queue()
    trigger = IntervalTrigger(0.05)
    trigger.start(events.put)
    kinds = [events.get(timeout=2).kind for _ in range(3)]
    trigger.close()
    while not events.empty():
        events.get_nowait()
    assert kinds == ["interval"] * 3
    assert events.empty()
