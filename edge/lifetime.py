"""How parts end: `Resource`, the base of every part you can hold with `with`, and
`OwnedThread`, the one way a part runs a thread of its own.

Both follow gpiozero (`GPIOBase` and `GPIOThread` in `gpiozero/devices.py`, `threads.py`):
`close()` may be called again and does nothing then, `closed` says whether it has been, and
a thread is started and stopped by the one object that owns it, never left to `__del__`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Self

_FLAG = threading.Lock()  # makes close()'s test-and-set atomic across threads


class Resource:
    """Implements `edge.ports.Closable`: an idempotent `close()`, the `closed` property and
    `with` support. A subclass puts its release in `_close()`, which runs at most once,
    after `closed` has turned True (so a release that fails is not tried again)."""

    _is_closed = False

    @property
    def closed(self) -> bool:
        return self._is_closed

    def close(self) -> None:
        with _FLAG:
            if self._is_closed:
                return
            self._is_closed = True
        self._close()

    def _close(self) -> None:
        """Release what the part holds; nothing by default."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class OwnedThread:
    """A daemon thread with a stop event, started and stopped by the object that owns it.

    `target` runs on the thread and returns soon after `stopping` is set (pass the owner's
    own event as `stopping` when it has one, such as the app's shutdown). `stop(timeout_s)`
    sets it and waits at most `timeout_s`: a thread stuck in a driver is given up on, and as
    a daemon thread it cannot hang the process's exit."""

    def __init__(self, target: Callable[[], None], name: str, *,
                 stopping: threading.Event | None = None) -> None:
        self.stopping = threading.Event() if stopping is None else stopping
        self._thread = threading.Thread(target=target, name=name, daemon=True)

    @property
    def name(self) -> str:
        return self._thread.name

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float) -> bool:
        """Wait at most `timeout_s` for the thread to end; True when it has ended (or never
        started). From the thread itself it does not wait."""
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def stop(self, timeout_s: float) -> bool:
        """Set `stopping`, then `join(timeout_s)`."""
        self.stopping.set()
        return self.join(timeout_s)
