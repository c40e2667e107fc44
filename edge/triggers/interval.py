"""IntervalTrigger: a capture every `interval_s` seconds, from its own thread."""

from __future__ import annotations

import time
from collections.abc import Callable

from edge.lifetime import OwnedThread, Resource
from edge.ports import TriggerEvent

STOP_S = 2.0  # the thread only waits and enqueues: it ends at once


class IntervalTrigger(Resource):
    """Fires `TriggerEvent("interval")` every interval_s (first after one interval) from a
    daemon thread that only enqueues. The app closes it, which stops the thread."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._thread: OwnedThread | None = None

    def start(self, fire: Callable[[TriggerEvent], None]) -> None:
        def loop() -> None:
            while not thread.stopping.wait(self.interval_s):
                fire(TriggerEvent("interval", at=time.monotonic()))

        thread = self._thread = OwnedThread(loop, "interval-trigger")
        thread.start()

    def _close(self) -> None:
        if self._thread is not None:
            self._thread.stop(STOP_S)
