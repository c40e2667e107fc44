"""Wait for a condition, not for a fixed time: a test is as fast as the code it checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

POLL_S = 0.01


def until(condition: Callable[[], object], timeout_s: float = 10.0, what: str = "") -> None:
    """Return as soon as `condition()` is true; AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what or condition}")
        pause.wait(POLL_S)
