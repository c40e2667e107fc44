"""`HttpApp`: the WSGI application behind the server: routing, the token, the answers.

Routes: `/` with `/page.js` and `/page.css` (the page: static files, no data, served to
anyone so a browser can load the form that asks for the token), `/api/state` (what the page
shows, JSON), `/frame.jpg?id=` (the frame of a result, only while a page watches),
`/metrics` (Prometheus) and `/healthz` (200 or 503 with one line). Every route but the
static files needs `Authorization: Bearer <token>` when a token is set. Nothing here logs a
request, so no token reaches the journal.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST

from edge.http.live import LiveView
from edge.http.metrics import Metrics
from edge.http.status import Status
from edge.ports import Result

StartResponse = Callable[..., Any]
STATIC = {"/": ("page.html", "text/html; charset=utf-8"),
          "/page.js": ("page.js", "text/javascript; charset=utf-8"),
          "/page.css": ("page.css", "text/css; charset=utf-8")}
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"), ("Cache-Control", "no-store"),
    ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "
     "img-src 'self' blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'")]


class HttpApp:
    """Called by the server's threads, several at once; holds no state of its own."""

    def __init__(self, status: Callable[[], Status], live: LiveView, metrics: Metrics,
                 token: str | None) -> None:
        self._status = status
        self._live = live
        self._metrics = metrics
        self._expected = f"Bearer {token}".encode() if token else None
        self._static = {path: (resources.files("edge.http").joinpath(name).read_bytes(), kind)
                        for path, (name, kind) in STATIC.items()}
        self._routes: dict[str, Callable[[dict[str, Any]], tuple[str, str, bytes]]] = {
            "/api/state": self._state, "/frame.jpg": self._frame,
            "/metrics": self._prometheus, "/healthz": self._health}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if path not in STATIC and path not in self._routes:
            return _answer(start_response, "404 Not Found", "text/plain", b"not found: the "
                           b"routes are /, /api/state, /frame.jpg, /metrics and /healthz\n")
        if method not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", "text/plain",
                           b"only GET and HEAD\n", [("Allow", "GET, HEAD")])
        if path in STATIC:
            body, kind = self._static[path]
            return _answer(start_response, "200 OK", kind, body, is_head=method == "HEAD")
        if not self._is_authorized(environ):
            return _answer(start_response, "401 Unauthorized", "text/plain",
                           b"send the token: Authorization: Bearer <token>\n",
                           [("WWW-Authenticate", 'Bearer realm="emotion-edge"')])
        status, kind, body = self._routes[path](environ)
        return _answer(start_response, status, kind, body, is_head=method == "HEAD")

    def _is_authorized(self, environ: dict[str, Any]) -> bool:
        if self._expected is None:
            return True
        given = str(environ.get("HTTP_AUTHORIZATION", "")).encode("utf-8", "replace")
        return hmac.compare_digest(given, self._expected)

    def _state(self, environ: dict[str, Any]) -> tuple[str, str, bytes]:
        if "frames" in _query(environ):  # the page asks for pictures: it is on
            self._live.watch()
        body = json.dumps(state_json(self._status(), self._live), separators=(",", ":"))
        return "200 OK", "application/json", body.encode()

    def _frame(self, environ: dict[str, Any]) -> tuple[str, str, bytes]:
        result_id = _query(environ).get("id", [""])[0]
        data = self._live.jpeg(result_id)
        if data is None:
            return "404 Not Found", "text/plain", b"no such frame kept: frames are kept only " \
                b"while the page is on; ask /api/state?frames=1 for the latest\n"
        return "200 OK", "image/jpeg", data

    def _prometheus(self, environ: dict[str, Any]) -> tuple[str, str, bytes]:
        return "200 OK", CONTENT_TYPE_LATEST, self._metrics.exposition()

    def _health(self, environ: dict[str, Any]) -> tuple[str, str, bytes]:
        status = self._status()
        if status.problem is not None:
            return "503 Service Unavailable", "text/plain", f"{status.problem}\n".encode()
        return "200 OK", "text/plain", f"ok: {status.text}\n".encode()


def state_json(status: Status, live: LiveView) -> dict[str, Any]:
    """What the page renders: the status, the frame on show and the last results."""
    framed = live.latest_framed()
    return {
        "device": status.device_id, "model": status.model, "detector": status.detector,
        "status": {"connected": status.is_connected, "broker": status.broker,
                   "spool_depth": status.spool_depth, "queue_depth": status.queue_depth,
                   "paused": status.is_paused, "captures": status.captures,
                   "problem": status.problem, "text": status.text},
        "fps": round(live.fps(), 2),
        "frame": _frame_json(framed) if framed is not None else None,
        "results": [live.summary(seen.result, _result_json) for seen in live.recent()],
    }


def _frame_json(result: Result) -> dict[str, Any]:
    faces = result.to_json_dict()["faces"]
    return {"id": result.id, "timestamp": result.timestamp,
            "faces": [{"box": face["box"], "emotion": face["emotion"],
                       "confidence": face["confidence"],
                       # tracks (continuous mode) number faces; older results have none
                       "track_id": face.get("track_id")} for face in faces]}


def _result_json(result: Result) -> dict[str, Any]:
    data = result.to_json_dict()
    return {key: data[key] for key in ("id", "timestamp", "trigger", "emotion", "confidence",
                                       "error")} | {
        "faces": len(result.faces), "total_ms": data["latency_ms"].get("total")}


def _query(environ: dict[str, Any]) -> dict[str, list[str]]:
    try:
        return parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True,
                        max_num_fields=8)
    except ValueError:  # too many fields: no route takes more than two
        return {}


def _answer(start_response: StartResponse, status: str, kind: str, body: bytes,
            extra: list[tuple[str, str]] | None = None, *, is_head: bool = False) -> list[bytes]:
    headers = [("Content-Type", kind), ("Content-Length", str(len(body))), *SECURITY_HEADERS,
               *(extra or [])]
    start_response(status, headers)
    return [] if is_head else [body]
