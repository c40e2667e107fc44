"""Whether the wall clock can be trusted: the kernel's clock-sync state, read with adjtimex,
else systemd-timesyncd's flag file.

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
from pathlib import Path

log = logging.getLogger(__name__)

STA_UNSYNC = 0x0040  # <linux/timex.h>: the clock is not synchronised (set until NTP syncs)
# systemd-timesyncd (Raspberry Pi OS's NTP client) makes this folder when it starts and
# touches `synchronized` in it once it has set the clock; /run is emptied at every boot.
TIMESYNCD_DIR = Path("/run/systemd/timesync")


class _Timex(ctypes.Structure):
    """`struct timex` up to `status`, then room for the rest (the kernel writes all of it).
    `long` fields follow the C `long`, so the layout holds on 32- and 64-bit Linux."""

    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long),
                ("status", ctypes.c_int), ("_rest", ctypes.c_byte * 256)]


class SyncState:
    """Reads the sync state on demand (`is_synced()`), from any thread. On Linux through
    `adjtimex(2)` with no change requested, which any user may call. Where a seccomp
    filter refuses it (the shipped unit: `ProtectClock=`, `SystemCallErrorNumber=EPERM`),
    from systemd-timesyncd's flag file; where neither answers (another NTP client, not
    Linux), None, and it logs why once."""

    def __init__(self, timesyncd_dir: Path = TIMESYNCD_DIR) -> None:
        self._adjtimex = _load_adjtimex()
        self._timesyncd_dir = timesyncd_dir
        self._is_reported = False

    def is_synced(self) -> bool | None:
        if self._adjtimex is None:
            return self._timesyncd("adjtimex is not available")
        timex = _Timex()  # modes = 0: read only
        if self._adjtimex(ctypes.byref(timex)) == -1:
            return self._timesyncd(f"adjtimex failed: errno {ctypes.get_errno()}")
        return not timex.status & STA_UNSYNC

    def _timesyncd(self, why: str) -> bool | None:
        try:
            if (self._timesyncd_dir / "synchronized").exists():
                return True
            if self._timesyncd_dir.is_dir():
                return False  # timesyncd runs and has not set the clock yet
        except OSError:
            pass
        self._report(f"{why}, and systemd-timesyncd is not running")
        return None

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
