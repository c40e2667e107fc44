"""The connection's lifecycle: `Link`, the states it goes through, and `Lifecycle`, which
moves between them only along `NEXT` and says when a move is news (one log line each)."""

from __future__ import annotations

import enum
import threading
from collections.abc import Mapping


class Link(enum.Enum):
    """Where the connection is. paho retries on its own from every state but NEW and
    CLOSED."""

    NEW = "new"  # built, no socket yet
    CONNECTING = "connecting"  # opened; the first attempt has no answer yet
    CONNECTED = "connected"  # the broker took us: subscriptions renewed, `online` sent
    REFUSED = "refused"  # the broker answered no (credentials, ACL)
    UNREACHABLE = "unreachable"  # no answer: network, port or TLS handshake
    LOST = "lost"  # was connected; results are spooled until it is back
    CLOSED = "closed"  # close() ran; final


_ATTEMPTED = frozenset({Link.CONNECTED, Link.REFUSED, Link.UNREACHABLE, Link.CLOSED})
NEXT: Mapping[Link, frozenset[Link]] = {
    Link.NEW: frozenset({Link.CONNECTING, Link.CLOSED}),
    Link.CONNECTING: _ATTEMPTED,
    Link.CONNECTED: frozenset({Link.LOST, Link.CLOSED}),  # paho reports a loss first
    Link.REFUSED: _ATTEMPTED,
    Link.UNREACHABLE: _ATTEMPTED,
    Link.LOST: _ATTEMPTED,
    Link.CLOSED: frozenset(),
}


class Lifecycle:
    """The current `link` and its `detail` (why it was refused, unreachable or lost).
    paho's thread and the closing one both move it, hence the lock."""

    def __init__(self) -> None:
        self.link = Link.NEW
        self.detail = ""
        self._lock = threading.Lock()

    def move(self, to: Link, detail: str = "") -> bool:
        """Go to `to`; True when that is news: another state, or the same with another
        detail (a new reason to be unreachable). Nothing leaves CLOSED: a late callback
        after close() moves nothing and gets False. ValueError for a move `NEXT` does not
        allow, a bug."""
        with self._lock:
            if self.link is Link.CLOSED or (to, detail) == (self.link, self.detail):
                return False
            if to not in NEXT[self.link]:
                raise ValueError(f"the MQTT link cannot go from {self.link.name} to {to.name}")
            self.link, self.detail = to, detail
            return True
