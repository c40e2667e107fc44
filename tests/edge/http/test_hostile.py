"""Bad clients against a running daemon: wrong tokens, unknown paths, huge and malformed
requests, many slow clients at once, a client that never reads. Each gets a clear answer or
a closed connection within 5 s, and captures go on meanwhile (results keep arriving over
MQTT). Real daemon subprocess, real mosquitto, real sockets."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time

import psutil
import pytest

from tests import wait
from tests.edge.http.conftest import BAD_REQUEST_S, TOKEN, Served, elapsed_s, get

pytestmark = [pytest.mark.daemon, pytest.mark.slow]


def raw(port: int, data: bytes, timeout_s: float = 10.0) -> tuple[bytes, float]:
    """Send `data`; the answer's status line (b"" if the server closed without one) and the
    seconds until it came."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # the server may close before we finish: fine
        got = b""
        try:
            while b"\r\n" not in got and (chunk := sock.recv(65536)):
                got += chunk
        except ConnectionResetError:
            pass
    return got.split(b"\r\n", 1)[0], elapsed_s(start)


def test_the_page_shell_is_public_and_every_data_route_needs_the_token(served: Served) -> None:
    page = get(served.port, "/", token=None)
    assert page.status == 200 and b"Frames are shown only while this page is on" in page.body
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for path in ("/api/state", "/frame.jpg?id=x", "/metrics", "/healthz"):
        for token in (None, "wrong-token", TOKEN + "x", TOKEN[:-1]):
            answer = get(served.port, path, token=token)
            assert answer.status == 401, (path, token)
            assert answer.headers["www-authenticate"].startswith("Bearer")
    lower = get(served.port, "/metrics", token=None,
                headers={"Authorization": f"bearer{TOKEN}"})
    assert lower.status == 401
    state = get(served.port, "/api/state")
    assert state.status == 200 and json.loads(state.body)["device"] == "dev"


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", b"404"),
    (b"GET /api/state/../../x HTTP/1.1\r\nHost: x\r\n\r\n", b"404"),
    (b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", b"404"),
    (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", b"405"),
    (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"431"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 100_000 + b"\r\n\r\n", b"431"),
    (b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n", b"413"),
    (b"\x00\xff\xfeGARBAGE\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", b"400"),
], ids=["dotdot", "dotdot-in-route", "unknown", "post", "huge-path", "huge-header",
        "huge-body", "garbage", "negative-length", "bad-header"])
def test_bad_requests_get_a_clear_answer_fast(served: Served, request_bytes: bytes,
                                              status: bytes) -> None:
    first, took = raw(served.port, request_bytes)
    assert first.split(b" ")[1:2] == [status], first
    assert took < BAD_REQUEST_S


def test_many_slow_clients_are_closed_and_captures_go_on(served: Served) -> None:
    """20 clients stop halfway through their headers, 20 drip a byte every 0.3 s: every one
    is closed within 5 s, while a good client is answered and results keep coming."""
    stalled = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(20)]
    dripping = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(20)]
    opened = time.monotonic()
    for sock in stalled + dripping:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    closed_after: dict[socket.socket, float] = {}
    try:
        assert get(served.port, "/healthz", timeout_s=BAD_REQUEST_S).status in (200, 503)
        served.captures_go_on(count=2, timeout_s=10)
        next_drip = time.monotonic()
        while len(closed_after) < 40 and elapsed_s(opened) < 2 * BAD_REQUEST_S:
            if time.monotonic() >= next_drip:
                next_drip += 0.3
                for sock in dripping:
                    if sock not in closed_after:
                        try:
                            sock.send(b"X")
                        except OSError:
                            closed_after[sock] = elapsed_s(opened)
            readable, _, _ = select.select([s for s in stalled + dripping
                                            if s not in closed_after], [], [], 0.05)
            for sock in readable:
                try:
                    data = sock.recv(4096)
                except ConnectionResetError:
                    data = b""
                if not data:
                    closed_after[sock] = elapsed_s(opened)
    finally:
        for sock in stalled + dripping:
            sock.close()
    assert len(closed_after) == 40, f"{40 - len(closed_after)} slow clients still open"
    assert max(closed_after.values()) < BAD_REQUEST_S, sorted(closed_after.values())


def test_a_client_that_never_reads_is_closed_and_others_are_served(served: Served) -> None:
    assert served.daemon.proc is not None
    daemon = psutil.Process(served.daemon.proc.pid)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills at once
    sock.connect(("127.0.0.1", served.port))
    port = sock.getsockname()[1]
    request = (f"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
               ).encode()
    sock.setblocking(False)
    try:
        sent = 0
        for _ in range(2000):  # pipelined, never reading an answer, until the server stops
            try:
                sock.send(request)
                sent += 1
            except BlockingIOError:
                break
        last_sent = time.monotonic()

        def holds_our_connection() -> bool:
            return any(c.raddr and c.raddr.port == port for c in daemon.net_connections("tcp"))

        wait.until(holds_our_connection, 5, "the daemon accepted the connection")
        assert get(served.port, "/healthz", timeout_s=BAD_REQUEST_S).status in (200, 503)
        served.captures_go_on(count=2, timeout_s=10)
        wait.until(lambda: not holds_our_connection(), 2 * BAD_REQUEST_S,
                   "the daemon closed the connection of a client that never reads")
        assert elapsed_s(last_sent) < BAD_REQUEST_S
        assert sent > 1
    finally:
        sock.close()
    assert get(served.port, "/healthz").status in (200, 503)
