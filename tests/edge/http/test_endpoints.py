"""The endpoint as a client sees it, on a running daemon: the state and frames of the page,
/metrics, /healthz following the systemd status line, and nothing listening when off."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import wait
from tests.edge.daemon import REPO, Daemon, NotifySocket
from tests.edge.http.conftest import (
    Served,
    get,
    page_config,
    serve,
    wait_until_served,
)
from tests.fixtures.broker import Broker, Watcher

pytestmark = [pytest.mark.daemon, pytest.mark.slow]
STATUS = "emotion-edge/dev/status"


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = get(port, "/metrics")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.body.decode())
            for s in family.samples}


def state(port: int, *, frames: bool = False) -> dict[str, object]:
    answer = get(port, "/api/state?frames=1" if frames else "/api/state")
    assert answer.status == 200
    data: dict[str, object] = json.loads(answer.body)
    return data


def test_metrics_of_a_running_daemon(served: Served) -> None:
    served.captures_go_on(count=2)
    # the status is made at most every 0.5 s: the one before the connection may still show
    wait.until(lambda: scrape(served.port)[("emotion_edge_mqtt_connected", ())] == 1, 5,
               "metrics to show the connection")
    m = scrape(served.port)
    assert m[("emotion_edge_captures_total", (("trigger", "interval"),))] >= 2
    assert m[("emotion_edge_stage_latency_seconds_count", (("stage", "detect"),))] >= 2
    assert m[("emotion_edge_healthy", ())] == 1
    assert m[("emotion_edge_last_faces", ())] == 1
    info = [labels for name, labels in m if name == "emotion_edge_build_info"]
    assert dict(info[0])["detector"] == "YunetFaceDetector"
    # every metric the shipped dashboard and scrape example use is one the daemon serves
    shipped = {name for doc in ("grafana-dashboard.json", "prometheus.yml")
               for name in re.findall(r"emotion_edge_\w+", (REPO / "docs" / doc).read_text())}
    assert shipped and shipped <= {name for name, _ in m}


def test_frames_only_while_a_page_watches(served: Served) -> None:
    served.captures_go_on(count=3)
    assert state(served.port)["frame"] is None  # asked without frames=1: nobody watches
    assert scrape(served.port)[("emotion_edge_http_frames_encoded_total", ())] == 0

    def framed() -> dict[str, object] | None:
        frame = state(served.port, frames=True)["frame"]
        return frame if isinstance(frame, dict) else None

    wait.until(framed, 10, "a frame once the page watches")
    frame = framed()
    assert frame is not None
    faces = frame["faces"]
    assert isinstance(faces, list) and len(faces) == 1
    assert faces[0]["track_id"] is None or isinstance(faces[0]["track_id"], int)
    x, y, w, h = faces[0]["box"]
    answer = get(served.port, f"/frame.jpg?id={frame['id']}")
    if answer.status == 404:  # replaced by a newer capture meanwhile; the next one is kept
        frame = framed()
        assert frame is not None
        answer = get(served.port, f"/frame.jpg?id={frame['id']}")
    assert answer.status == 200 and answer.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(answer.body, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (512, 512, 3) and 0 < x < x + w <= 512 and 0 < y < y + h <= 512
    assert get(served.port, "/frame.jpg?id=nope").status == 404
    encoded = scrape(served.port)[("emotion_edge_http_frames_encoded_total", ())]
    assert encoded >= 1
    # the page goes away: after its lease no frame is kept, and none is encoded
    wait.until(lambda: state(served.port)["frame"] is None, 10, "the lease to run out")
    served.captures_go_on(count=3)
    assert scrape(served.port)[("emotion_edge_http_frames_encoded_total", ())] == encoded


@pytest.fixture
def with_notify(tmp_path: Path, mosquitto: Broker, tiny_model: Path,
                notify: NotifySocket) -> Iterator[tuple[Served, NotifySocket]]:
    for served in serve(tmp_path, mosquitto, tiny_model, {"NOTIFY_SOCKET": str(notify.path)}):
        yield served, notify


def test_healthz_follows_the_status_line(with_notify: tuple[Served, NotifySocket]) -> None:
    served, notify = with_notify
    notify.wait_for("READY=1", timeout_s=30, is_prefix=True)
    wait.until(lambda: get(served.port, "/healthz").status == 200, 15, "healthy")
    assert get(served.port, "/healthz").body.startswith(b"ok: connected to 127.0.0.1:")

    served.broker.stop()
    down = f"NOT connected to 127.0.0.1:{served.broker.port}"
    wait.until(lambda: get(served.port, "/healthz").status == 503, 15, "503 with the broker gone")
    assert get(served.port, "/healthz").body == f"{down}\n".encode()
    seen = notify.wait_for(f"STATUS={down}", timeout_s=15, is_prefix=True)
    assert f"STATUS={down}" in seen[-1]

    served.broker.start()
    wait.until(lambda: get(served.port, "/healthz").status == 200, 15, "healthy again")

    images = served.workdir / "images"
    shutil.move(images, served.workdir / "gone")
    wait.until(lambda: get(served.port, "/healthz").status == 503, 15, "503 with the camera gone")
    reason = get(served.port, "/healthz").body.decode().strip()
    assert reason.startswith("camera lost since")
    line = notify.wait_for("STATUS=camera lost since", timeout_s=15, is_prefix=True)[-1]
    assert reason.split(": image")[0] in line  # "camera lost since <when> UTC"
    shutil.move(served.workdir / "gone", images)
    wait.until(lambda: get(served.port, "/healthz").status == 200, 60, "the camera back")


def test_off_by_default_nothing_listens(tmp_path: Path, mosquitto: Broker, tiny_model: Path,
                                       watch: Callable[..., Watcher],
                                       daemons: Callable[..., Daemon]) -> None:
    config = page_config(tmp_path, mosquitto, tiny_model, port=0, token_file=None)
    del config["http"]
    watcher = watch(mosquitto, (STATUS,))
    daemon = daemons(tmp_path, config)
    daemon.start()
    assert watcher.next(STATUS, timeout_s=30)[1] == b"online"
    assert daemon.proc is not None
    listening = [c for c in psutil.Process(daemon.proc.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening == []


def test_on_without_token_on_loopback(tmp_path: Path, mosquitto: Broker, tiny_model: Path,
                                      daemons: Callable[..., Daemon]) -> None:
    from benchmarks.support.broker import free_port

    port = free_port()
    daemon = daemons(tmp_path, page_config(tmp_path, mosquitto, tiny_model, port, None))
    daemon.start()
    wait_until_served(port, daemon)
    assert daemon.proc is not None
    [listening] = [c for c in psutil.Process(daemon.proc.pid).net_connections("inet")
                   if c.status == psutil.CONN_LISTEN]
    assert listening.laddr.ip == "127.0.0.1" and listening.laddr.port == port
    assert get(port, "/metrics", token=None).status == 200
