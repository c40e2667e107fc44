"""`Watchdog`: the worker's systemd watchdog pings, sent only while the daemon is healthy."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from edge.notify import Notifier

log = logging.getLogger(__name__)

IDLE_WAKE_S = 1.0  # how often an idle worker wakes when no watchdog asks for more


class Watchdog:
    """Decides each ping on the worker thread: none while `is_stuck()` (a capture hung) or
    while a health check names a problem (the MQTT side), so systemd restarts the service
    after `WatchdogSec=`. A problem's start and end are logged once. `wake_s` is how often
    the worker thread must call `ping_if_due` for the pings to come in time."""

    def __init__(self, notifier: Notifier, is_stuck: Callable[[], bool]) -> None:
        self._notifier = notifier
        self._is_stuck = is_stuck
        self._checks: list[Callable[[], str | None]] = []
        self.problem: str | None = None  # what a health check last reported
        self._last_ping = float("-inf")
        watchdog_s = notifier.watchdog_interval_s
        self.wake_s = IDLE_WAKE_S if watchdog_s is None else min(IDLE_WAKE_S, watchdog_s / 2)

    def add_check(self, check: Callable[[], str | None]) -> None:
        """Also stop the pings while `check()` names a problem."""
        self._checks.append(check)

    @property
    def is_healthy(self) -> bool:
        return not self._is_stuck() and self.problem is None

    def ping_if_due(self) -> None:
        now = time.monotonic()
        if now - self._last_ping < self.wake_s / 2:
            return
        self._last_ping = now
        self._check_health()
        if self.is_healthy:
            self._notifier.watchdog()

    def _check_health(self) -> None:
        problem = next((p for p in (check() for check in self._checks) if p), None)
        if problem == self.problem:
            return
        if problem is None:
            log.info("healthy again: %s is over", self.problem)
        elif self._notifier.watchdog_interval_s is not None:
            log.error("%s: no more watchdog pings, so systemd restarts the service", problem)
        else:
            log.error("%s (no systemd watchdog here to restart the service)", problem)
        self.problem = problem
