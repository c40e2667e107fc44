"""`TimedRunner`: run one call at a time on a helper thread, so the caller can stop waiting."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from edge.lifetime import OwnedThread

T = TypeVar("T")
_Job = tuple[Callable[[], object], "Future[object]"]


class TimedRunner:
    """One daemon thread that runs submitted calls in turn. A camera driver can block in C
    for ever; the caller waits on the returned Future with a timeout instead, and
    `busy_for_s()` says how long the call in progress has been running (monotonic clock).
    Not a ThreadPoolExecutor: its exit hook joins its threads, so a hung call would hang
    the daemon's exit too. Its owner stops it with `stop`; a thread still stuck in a call
    then is a daemon thread and ends with the process."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._started_at: float | None = None
        self._thread = OwnedThread(self._run, name)
        self._thread.start()

    def busy_for_s(self) -> float | None:
        """Seconds the call in progress has run, or None when idle."""
        started = self._started_at
        return None if started is None else time.monotonic() - started

    def submit(self, call: Callable[[], T]) -> Future[T]:
        if self._thread.stopping.is_set():
            raise RuntimeError(f"{self._thread.name} runner is stopped")
        future: Future[T] = Future()
        self._started_at = time.monotonic()  # busy from now, before the thread picks it up
        self._jobs.put((call, future))  # type: ignore[arg-type]
        return future

    def stop(self, timeout_s: float) -> bool:
        """Take no more calls; wait at most `timeout_s` for the one in progress. True when
        the thread has ended."""
        self._jobs.put(None)
        return self._thread.stop(timeout_s)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            call, future = job
            value: object = None
            error: BaseException | None = None
            try:
                value = call()
            except BaseException as e:  # handed to the waiter, who decides
                error = e
            self._started_at = None  # before the waiter wakes and may submit again
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)
