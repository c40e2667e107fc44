"""Whether the wall clock can be trusted: the kernel's clock-sync state, read with adjtimex.

A Pi has no real-time clock: it boots with the time it last saved and NTP moves it later,
by hours or days. Results carry `time_synced` so a subscriber knows whether their
`timestamp` is real; every interval, timeout and age inside the daemon runs on
`time.monotonic()` instead, which such a jump does not move.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

STA_UNSYNC = 0x0040  # <linux/timex.h>: the clock is not synchronised (set until NTP syncs)


class _Timex(ctypes.Structure):
    """`struct timex` up to `status`, then room for the rest (the kernel writes all of it).
    `long` fields follow the C `long`, so the layout holds on 32- and 64-bit Linux."""

    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long),
                ("status", ctypes.c_int), ("_rest", ctypes.c_byte * 256)]


class SyncState:
    """Reads the sync state on demand (`is_synced()`), from any thread. On Linux through
    `adjtimex(2)` with no change requested, which any user may call; elsewhere, or where
    a seccomp filter refuses it (systemd's `ProtectClock=` with
    `SystemCallErrorNumber=EPERM`), it answers None and logs why once."""

    def __init__(self) -> None:
        self._adjtimex = _load_adjtimex()
        self._is_reported = False

    def is_synced(self) -> bool | None:
        if self._adjtimex is None:
            return None
        timex = _Timex()  # modes = 0: read only
        if self._adjtimex(ctypes.byref(timex)) == -1:
            self._report(f"adjtimex failed: {ctypes.get_errno()}")
            return None
        return not timex.status & STA_UNSYNC

    def _report(self, why: str) -> None:
        if not self._is_reported:
            self._is_reported = True
            log.info("clock sync state unknown (%s): results say time_synced = null", why)


def _load_adjtimex() -> ctypes._NamedFuncPointer | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func = libc.adjtimex
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.POINTER(_Timex)]
    func.restype = ctypes.c_int
    return func
