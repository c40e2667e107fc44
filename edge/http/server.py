"""`HttpServer`: waitress serving `HttpApp` on one thread of its own, with hard limits.

waitress (pure Python, no dependencies) reads and writes every socket on one asyncore loop
and runs the application on a fixed pool of threads, so a slow or hostile client costs a
buffer, never a thread: the daemon's thread count stays bounded under the unit's TasksMax=.
On top of its limits (header and body size, open connections, idle timeout) a request still
incomplete after `REQUEST_DEADLINE_S` is cut, so a client that drips bytes cannot hold a
connection either, and one that stops reading is closed, which frees the thread writing to
it. See docs/http.md for why waitress and what it costs.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

from edge.errors import ConfigError
from edge.http.config import HttpConfig
from edge.http.routes import HttpApp
from edge.lifetime import OwnedThread, Resource

log = logging.getLogger(__name__)

# A request must arrive whole, and a connection with nothing to do (or whose client stops
# reading) is closed, within these plus a cleanup pass (1 s): under the 5 s bad requests get.
REQUEST_DEADLINE_S = 3
IDLE_S = 3
LOOP_S = 0.5  # how often the loop looks at its stop event and its deadlines
LIMITS: dict[str, Any] = {
    "threads": 2, "connection_limit": 64, "max_request_header_size": 8192,
    "max_request_body_size": 1024, "channel_timeout": IDLE_S, "cleanup_interval": 1,
    "asyncore_use_poll": True, "ident": "emotion-edge", "expose_tracebacks": False,
    "clear_untrusted_proxy_headers": True}


class _DeadlineChannel(HTTPChannel):  # type: ignore[misc]
    """Remembers when the request it is reading began."""

    request_began = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_began = time.monotonic()
        return bool(super().received(data))


class _Server(TcpWSGIServer):  # type: ignore[misc]
    channel_class = _DeadlineChannel

    def maintenance(self, now: float) -> None:
        """On the loop thread, every `cleanup_interval`: close, not just mark, the
        connections to give up on (a marked one waits for a writable socket, which a client
        that never reads never gives)."""
        began_cutoff = time.monotonic() - REQUEST_DEADLINE_S
        idle_cutoff = now - IDLE_S  # waitress keeps last_activity in time.time()
        for channel in list(self.active_channels.values()):
            is_dripping = channel.request is not None and channel.request_began < began_cutoff
            is_stalled = channel.last_activity < idle_cutoff and (
                channel.total_outbufs_len or not channel.requests)
            if is_dripping or is_stalled:
                channel.handle_close()  # wakes a task thread blocked on its full buffer


class _DebugOnly:
    """Stands in for waitress's queue logger: its warnings become debug lines of ours."""

    def warning(self, message: str, *args: object) -> None:
        log.debug(message, *args)


class HttpServer(Resource):
    """Binds at construction (so a port in use is a start error); `start()` begins serving on
    the `http` thread; `close()` stops it within about LOOP_S and closes every connection.
    The app opens it after the worker and closes it before."""

    def __init__(self, cfg: HttpConfig, app: HttpApp) -> None:
        try:
            self._server = _Server(app, host=cfg.host, port=cfg.port, **LIMITS)
        except OSError as e:
            raise ConfigError(f"cannot listen on {cfg.host}:{cfg.port}: {e.strerror}; choose "
                              "another http.port, or stop what uses it") from e
        # waitress warns "Task queue depth is N" on every request that waits for a thread: a
        # flood of requests would flood the journal; the limits above already bound the work
        self._server.task_dispatcher.queue_logger = _DebugOnly()
        self.port = int(self._server.effective_port)
        self.host = str(self._server.effective_host)
        self._thread = OwnedThread(self._run, "http")

    def start(self) -> None:
        self._thread.start()
        log.info("HTTP page on http://%s:%d/", self.host, self.port)

    def _run(self) -> None:
        socket_map = self._server._map
        while not self._thread.stopping.is_set():
            wasyncore.loop(timeout=LOOP_S, map=socket_map, use_poll=True, count=1)

    def _close(self) -> None:
        if not self._thread.stop(LOOP_S * 4 + 1):
            log.warning("the HTTP thread did not stop; closing its sockets anyway")
        self._server.task_dispatcher.shutdown(timeout=2)
        wasyncore.close_all(self._server._map)
