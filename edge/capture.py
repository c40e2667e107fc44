"""`TimedCapture`: one run of the pipeline on a helper thread, waited for at most a timeout,
its failure told as the kind and reason of an error result."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from edge.errors import EdgeError, SourceError
from edge.ports import Frame, Result, TriggerEvent
from edge.timed import TimedRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureFailed:
    """Why no result came: `kind` and `reason` of the error result that answers instead."""

    kind: str
    reason: str


class TimedCapture:
    """Runs `handle(event)` on its own thread (a camera driver can block in C for ever) and
    waits at most `timeout_s`; called from the worker thread only. `busy` callbacks (the
    button LED) see True while a capture runs. `running_for_s()` says how long the call in
    progress has run, also after the wait gave up on it (any thread). Its owner calls `stop`."""

    def __init__(self, handle: Callable[[TriggerEvent], tuple[Result, Frame]],
                 timeout_s: float, busy: Sequence[Callable[[bool], None]] = ()) -> None:
        self._handle = handle
        self.timeout_s = timeout_s
        self._busy = list(busy)
        self._runner = TimedRunner("capture")

    def add_busy(self, show: Callable[[bool], None]) -> None:
        self._busy.append(show)

    def running_for_s(self) -> float | None:
        """Seconds the capture in progress has run, or None when idle."""
        return self._runner.busy_for_s()

    def hung_for_s(self) -> float | None:
        """How long the capture in progress has run when it outlived its timeout, else None."""
        running = self._runner.busy_for_s()
        return running if running is not None and running > self.timeout_s else None

    def run(self, event: TriggerEvent) -> tuple[Result, Frame] | CaptureFailed:
        self._set_busy(True)
        try:
            future = self._runner.submit(lambda: self._handle(event))
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            log.error("a capture has run for over %g s: no watchdog pings until it returns "
                      "(systemd restarts the service after WatchdogSec=)", self.timeout_s)
            return CaptureFailed("camera", f"no frame within {self.timeout_s:g} s "
                                 "(worker.capture_timeout_s): the camera read hangs")
        except SourceError as e:
            return CaptureFailed("camera", str(e))
        except EdgeError as e:
            return CaptureFailed("pipeline", str(e))
        except Exception as e:  # a bug or a vendor error: answer, log, keep serving
            log.exception("unexpected error during a capture")
            return CaptureFailed("internal", repr(e))
        finally:
            self._set_busy(False)

    def stop(self) -> None:
        """Take no more captures; a call still stuck ends with the process."""
        self._runner.stop(0)

    def _set_busy(self, is_busy: bool) -> None:
        for show in self._busy:
            show(is_busy)
