"""IntervalTrigger: a capture every `interval_s` seconds, from its own thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from edge.ports import TriggerEvent


class IntervalTrigger:
    """Fires `TriggerEvent("interval")` every interval_s (first after one interval) from a
    daemon thread that only enqueues. The app closes it, which stops the thread."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, fire: Callable[[TriggerEvent], None]) -> None:
        def loop() -> None:
            while not self._stop.wait(self.interval_s):
                fire(TriggerEvent("interval", at=time.monotonic()))

        self._thread = threading.Thread(target=loop, name="interval-trigger", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
