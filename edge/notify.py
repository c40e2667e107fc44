"""sd_notify without a dependency: tell systemd we are ready, healthy, busy or stopping.

systemd passes `$NOTIFY_SOCKET` (a path, or `@name` for an abstract socket) to a
`Type=notify` service and `$WATCHDOG_USEC` when `WatchdogSec=` is set. Outside systemd both
are unset and every call is a no-op, so the daemon runs the same under a terminal.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends `KEY=value` datagrams to the service manager. Thread-safe (one datagram per
    call); the app owns it and closes it after `STOPPING=1`."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._address = _address(environ.get("NOTIFY_SOCKET", ""))
        self.watchdog_interval_s = _watchdog_s(environ)
        self._sock: socket.socket | None = None
        if self._address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def is_enabled(self) -> bool:
        return self._sock is not None

    def ready(self, status: str) -> None:
        self._send(f"READY=1\nSTATUS={status}")

    def status(self, text: str) -> None:
        self._send(f"STATUS={text}")

    def watchdog(self) -> None:
        """Call from the worker loop only while it is healthy: silence means 'restart me'."""
        if self.watchdog_interval_s is not None:
            self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1\nSTATUS=stopping")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _send(self, message: str) -> None:
        if self._sock is None or self._address is None:
            return
        try:
            self._sock.sendto(message.encode(), self._address)
        except OSError as e:  # the manager went away; the daemon itself must go on
            log.debug("sd_notify to %r failed: %s", self._address, e)


def _address(value: str) -> str | bytes | None:
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


def _watchdog_s(environ: Mapping[str, str]) -> float | None:
    """Full watchdog period in seconds, or None when systemd is not watching this process."""
    usec = environ.get("WATCHDOG_USEC", "")
    pid = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 1e6
