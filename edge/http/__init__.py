"""The opt-in local HTTP endpoint (`[http]`, off by default): a page for aiming the camera,
`/metrics` for Prometheus and `/healthz`. Off, nothing here is imported and nothing listens.

`open_http` is where it is built (the app calls it); `check_http` is the start-up check
`check-config` runs. The worker hands every capture to `HttpEndpoint.see` by reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from edge.http.config import HttpConfig

if TYPE_CHECKING:
    from edge.http.live import LiveView
    from edge.http.metrics import Metrics
    from edge.http.server import HttpServer
    from edge.http.status import Status
    from edge.ports import Frame, Result


class HttpEndpoint:
    """The live view, the metrics and the server of one daemon. The app owns the server
    (`server`, a context manager) and calls `see` through the worker."""

    def __init__(self, live: LiveView, metrics: Metrics, server: HttpServer) -> None:
        self.live = live
        self.metrics = metrics
        self.server = server

    def see(self, result: Result, frame: Frame | None) -> None:
        """Worker thread, after every trigger: references only, no encoding."""
        self.metrics.observe(result)
        self.live.offer(result, frame)


def open_http(cfg: HttpConfig, status: Callable[[], Status],
              environ: Mapping[str, str]) -> HttpEndpoint:
    """Read the token, bind the port; ConfigError saying what to fix when either fails.
    The caller starts `server` and closes it."""
    from edge.http.live import LiveView
    from edge.http.metrics import Metrics
    from edge.http.routes import HttpApp
    from edge.http.server import HttpServer
    from edge.http.status import CachedStatus
    from edge.http.token import read_token

    token = read_token(cfg, environ)
    status = CachedStatus(status)
    live = LiveView()
    metrics = Metrics(status, frames_encoded=lambda: live.encoded)
    return HttpEndpoint(live, metrics, HttpServer(cfg, HttpApp(status, live, metrics, token)))


def check_http(cfg: HttpConfig, environ: Mapping[str, str]) -> None:
    """What `open_http` checks without binding: the token rule. ConfigError if it fails."""
    from edge.http.token import read_token

    read_token(cfg, environ)


__all__ = ["HttpEndpoint", "check_http", "open_http"]
