"""Pausing detection from Home Assistant, against the real broker: the switch closes the
camera, capture requests get a `paused` error result, the state is retained on
`paused` and kept across a restart; a malformed payload is ignored with one log line."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from edge.app import App, Parts, build
from edge.config import Settings
from edge.pause import PauseSwitch, pause_path
from edge.sources.reopening import ReopeningSource
from tests import wait
from tests.edge.test_cli import RESULT_SCHEMA
from tests.fakes import FixedClassifier, FixedDetector
from tests.fixtures.broker import Broker, Watcher

Watch = Callable[..., Watcher]
RESULT = "emotion-edge/dev/result"
PAUSE = "emotion-edge/dev/pause/set"
PAUSED = "emotion-edge/dev/paused"
STATUS = "emotion-edge/dev/status"
PHOTO = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"


def settings(broker: Broker, photos: Path, **trigger: Any) -> Settings:
    return Settings.model_validate({
        "device_id": "dev", "source": {"kind": "images", "path": str(photos)},
        "trigger": {"button": {"is_enabled": False}, **trigger}, "worker": {"min_interval_s": 0},
        "mqtt": broker.mqtt_config()})


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(PHOTO, folder / "a.jpg")
    return folder


@pytest.fixture
def started(mosquitto: Broker, watch: Watch) -> Iterator[Callable[[Settings], App]]:
    apps: list[App] = []

    def start(cfg: Settings) -> App:
        status = watch(mosquitto, (STATUS,))
        # the real images camera (wrapped to reopen, as the daemon's); role fakes behind it
        app = build(cfg, parts=Parts(detector=FixedDetector(), classifier=FixedClassifier()),
                    environ={})
        apps.append(app)
        app.start()
        assert app.connection.is_connected.wait(10)
        # `online` follows the subscriptions: a command sent before it may not be heard
        wait.until(lambda: status.latest.get(STATUS) == b"online", what="online")
        return app

    yield start
    for app in apps:
        app.close()


def capture(watcher: Watcher, request_id: str) -> dict[str, Any]:
    watcher.publish("emotion-edge/dev/capture/set", json.dumps({"request_id": request_id}))
    while True:
        doc: dict[str, Any] = json.loads(watcher.next(RESULT)[1])
        if doc["request_id"] == request_id:
            return doc


def test_the_switch_pauses_closes_the_camera_and_answers_paused(
        mosquitto: Broker, watch: Watch, photos: Path,
        started: Callable[[Settings], App]) -> None:
    app = started(settings(mosquitto, photos))
    watcher = watch(mosquitto, (RESULT, PAUSED))
    assert watcher.next(PAUSED)[1] == b"OFF"  # the state, sent on connect
    assert capture(watcher, "before")["error"] is None
    source = app.pipeline.source
    assert isinstance(source, ReopeningSource) and source.is_open

    watcher.publish(PAUSE, "ON")
    assert watcher.next(PAUSED)[1] == b"ON"
    assert watch(mosquitto, (PAUSED,)).next()[1:] == (b"ON", True)  # retained
    wait.until(lambda: not source.is_open, what="the camera closed by the pause")
    paused = capture(watcher, "during")
    assert paused["error"]["kind"] == "paused" and paused["faces"] == []
    assert "OFF" in paused["error"]["reason"]
    jsonschema.validate(paused, RESULT_SCHEMA)
    assert app.status.text().startswith("camera paused")
    assert not source.is_open  # a paused request did not reopen it

    watcher.publish(PAUSE, "off")
    assert watcher.next(PAUSED)[1] == b"OFF"
    wait.until(lambda: not app.pause.is_paused, what="resumed")
    resumed = capture(watcher, "after")
    assert resumed["error"] is None and resumed["emotion"] == "happy"
    assert source.is_open
    assert not app.status.text().startswith("camera paused")


def test_the_pause_survives_a_restart(mosquitto: Broker, watch: Watch, photos: Path,
                                      started: Callable[[Settings], App]) -> None:
    cfg = settings(mosquitto, photos)
    first = started(cfg)
    watcher = watch(mosquitto, (PAUSED,))
    watcher.publish(PAUSE, "ON")
    wait.until(lambda: first.pause.is_paused, what="paused")
    path = pause_path(cfg.mqtt.spool.path, {})
    assert path.parent == Path(str(cfg.mqtt.spool.path)).parent and path.exists()
    first.close()

    second = started(cfg)  # the same state folder: still paused, and says so at once
    assert second.pause.is_paused
    late = watch(mosquitto, (RESULT, PAUSED))
    wait.until(lambda: late.latest.get(PAUSED) == b"ON", what="ON retained after restart")
    assert capture(late, "after restart")["error"]["kind"] == "paused"


def test_a_malformed_switch_payload_is_ignored_with_one_log_line(
        mosquitto: Broker, watch: Watch, photos: Path, started: Callable[[Settings], App],
        caplog: pytest.LogCaptureFixture) -> None:
    app = started(settings(mosquitto, photos))
    watcher = watch(mosquitto, (RESULT,))
    caplog.set_level(logging.WARNING, logger="edge.mqtt.commands")
    for payload in (b"\xff\xfe", b"maybe", b"{\"state\": \"ON\"}", b"x" * 5000, b""):
        watcher.publish(PAUSE, payload)
    # the connection handles messages in order: once this capture is answered, all were seen
    assert capture(watcher, "still works")["error"] is None
    assert not app.pause.is_paused
    lines = [r for r in caplog.records if "pause command" in r.getMessage()]
    assert len(lines) == 1 and "neither ON nor OFF" in lines[0].getMessage()


def test_a_pause_file_that_cannot_be_written_is_an_error_that_says_where(
        tmp_path: Path) -> None:
    from edge.errors import ConfigError

    switch = PauseSwitch(tmp_path / "missing-folder" / "paused")
    with pytest.raises(ConfigError, match="STATE_DIRECTORY"):
        switch.set(True)
    assert not switch.is_paused


def test_a_state_folder_that_refuses_the_pause_file_is_logged_and_survived(
        mosquitto: Broker, watch: Watch, photos: Path, started: Callable[[Settings], App],
        caplog: pytest.LogCaptureFixture) -> None:
    cfg = settings(mosquitto, photos)
    blocker = pause_path(cfg.mqtt.spool.path, {}).with_name("paused.tmp")
    blocker.mkdir(parents=True)  # the atomic write's temp file cannot be made (even as root)
    app = started(cfg)
    watcher = watch(mosquitto, (RESULT,))
    caplog.set_level(logging.ERROR, logger="edge.mqtt.pause")
    watcher.publish(PAUSE, "ON")
    wait.until(lambda: any("pause switch was not changed" in r.getMessage()
                           for r in caplog.records), what="the refusal logged")
    assert not app.pause.is_paused
    assert capture(watcher, "still capturing")["error"] is None
