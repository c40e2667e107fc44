"""`Status`: the daemon's state as the page, /healthz and /metrics read it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Status:
    """A snapshot made by the app on an HTTP thread. `problem` is what the systemd status
    line puts first (None: healthy); `text` is that whole line."""

    device_id: str
    model: str
    detector: str
    is_connected: bool
    broker: str  # host:port
    spool_depth: int
    queue_depth: int
    is_paused: bool
    captures: int
    dropped: int
    problem: str | None
    text: str


class CachedStatus:
    """The app's status made at most once per `max_age_s`, however many pages and scrapers
    ask: making it queries the spool, whose lock the worker's publish also takes."""

    def __init__(self, make: Callable[[], Status], max_age_s: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._make = make
        self._max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, Status] | None = None

    def __call__(self) -> Status:
        with self._lock:
            now = self._clock()
            if self._cached is None or now - self._cached[0] > self._max_age_s:
                self._cached = (now, self._make())
            return self._cached[1]
