"""A daemon with the HTTP endpoint on, and small clients to talk to it: `http.client` for
well-formed requests, raw sockets for hostile ones."""

from __future__ import annotations

import http.client
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benchmarks.support.broker import Broker, free_port, private_broker
from benchmarks.support.watcher import Watcher
from tests import wait
from tests.edge.daemon import REPO, Daemon

TOKEN = "test-token-0123456789abcdef"
RESULT = "emotion-edge/dev/result"
BAD_REQUEST_S = 5.0  # the bound: every bad request is answered or closed within it


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def get(port: int, path: str, *, token: str | None = TOKEN, method: str = "GET",
        headers: dict[str, str] | None = None, timeout_s: float = 10.0) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        conn.request(method, path, headers=sent)
        response = conn.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()},
                      response.read())
    finally:
        conn.close()


def http_config(port: int, token_file: Path | None, **overrides: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {"is_enabled": True, "host": "127.0.0.1", "port": port}
    if token_file is not None:
        cfg["token_file"] = str(token_file)
    cfg.update(overrides)
    return cfg


def page_config(workdir: Path, broker: Broker, model: Path, port: int,
                token_file: Path | None, **trigger: Any) -> dict[str, Any]:
    images = workdir / "images"
    images.mkdir(exist_ok=True)
    shutil.copy(REPO / "tests" / "data" / "astronaut.jpg", images / "a.jpg")
    return {
        "device_id": "dev",
        "source": {"kind": "images", "path": str(images)},
        "classifier": {"model_path": str(model)},
        "detector": {"kind": "yunet"},
        "trigger": {"button": {"is_enabled": False}, "interval_s": 0.2, **trigger},
        "worker": {"min_interval_s": 0},
        "mqtt": broker.mqtt_config(spool={"path": str(workdir / "spool.sqlite")}),
        "http": http_config(port, token_file),
    }


@dataclass
class Served:
    """A running daemon with its page on `port`, and a watcher on its results."""

    daemon: Daemon
    port: int
    broker: Broker
    watcher: Watcher
    workdir: Path

    def captures_go_on(self, count: int = 3, timeout_s: float = 15.0) -> None:
        """`count` new results arrive on MQTT (drops what came before)."""
        while not self.watcher.messages.empty():
            self.watcher.messages.get_nowait()
        for _ in range(count):
            self.watcher.next(RESULT, timeout_s=timeout_s)


def wait_until_served(port: int, daemon: Daemon, timeout_s: float = 60.0) -> None:
    def answers() -> bool:
        assert daemon.is_running, daemon.log_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    wait.until(answers, timeout_s, f"the daemon's page on port {port}")


def serve(workdir: Path, broker: Broker, model: Path, env: dict[str, str] | None = None,
          **trigger: Any) -> Iterator[Served]:
    """Run the daemon until the generator is closed; `env` is added to its environment."""
    token_file = workdir / "http-token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    daemon = Daemon(workdir, page_config(workdir, broker, model, port, token_file, **trigger),
                    env)
    watcher = Watcher(broker, (RESULT,))
    daemon.start()
    try:
        wait_until_served(port, daemon)
        yield Served(daemon, port, broker, watcher, workdir)
    finally:
        watcher.close()
        daemon.kill()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[Served]:
    """One daemon for a module's tests: images on a 0.2 s interval, a token, a real broker."""
    workdir = tmp_path_factory.mktemp("served")
    (workdir / "broker").mkdir()
    with private_broker(workdir / "broker") as broker:
        yield from serve(workdir, broker, tiny_model)


def elapsed_s(start: float) -> float:
    return time.monotonic() - start
