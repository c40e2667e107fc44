"""`Status`: the daemon's state as the page, /healthz and /metrics read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Status:
    """A snapshot made by the app on an HTTP thread. `problem` is what the systemd status
    line puts first (None: healthy); `text` is that whole line."""

    device_id: str
    model: str
    detector: str
    is_connected: bool | None  # None: no MQTT in this daemon
    broker: str | None
    spool_depth: int
    queue_depth: int
    is_paused: bool | None  # None: this daemon has no pause switch
    captures: int
    dropped: int
    problem: str | None
    text: str
