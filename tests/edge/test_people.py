"""Continuous mode over the real broker: each face is a person with a track id in the
results, the retained face count and presence follow them, and one person message goes out
on `<prefix>/<device>/person` when their track ends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest

from edge.app import App, Parts, build
from edge.config import Settings
from edge.ports import FaceBox
from tests import wait
from tests.edge.test_cli import RESULT_SCHEMA
from tests.fakes import CountingSource, FixedClassifier, FixedDetector
from tests.fixtures.broker import Broker, Watcher

Watch = Callable[..., Watcher]
FACES, PRESENCE = "emotion-edge/dev/faces", "emotion-edge/dev/presence"
TOPICS = ("emotion-edge/dev/result", "emotion-edge/dev/person", "emotion-edge/dev/faces",
          "emotion-edge/dev/presence")


@pytest.fixture
def app(mosquitto: Broker) -> Iterator[tuple[App, FixedDetector, CountingSource]]:
    detector = FixedDetector([FaceBox(10, 10, 60, 60), FaceBox(90, 20, 50, 50)])
    cfg = Settings.model_validate({
        "device_id": "dev", "source": {"kind": "images", "path": "unused"},
        "trigger": {"button": {"is_enabled": False}, "is_mqtt_enabled": False,
                    "continuous": {"is_enabled": True, "max_fps": 20, "window_frames": 2,
                                   "track_lost_s": 0.3, "heartbeat_s": 3600}},
        "mqtt": mosquitto.mqtt_config()})
    source = CountingSource()
    built = build(cfg, parts=Parts(source=source, detector=detector,
                                   classifier=FixedClassifier(label="happy")), environ={})
    yield built, detector, source
    built.close()


def test_people_get_track_ids_a_count_presence_and_a_message_when_they_leave(
        mosquitto: Broker, watch: Watch, app: tuple[App, FixedDetector, CountingSource]) -> None:
    watcher = watch(mosquitto, TOPICS)
    running, detector, source = app
    running.start()
    result: dict[str, Any] = json.loads(watcher.next("emotion-edge/dev/result")[1])
    while len(result["faces"]) < 2:  # "none" may come first, before the tracks confirm
        result = json.loads(watcher.next("emotion-edge/dev/result")[1])
    ids = [face["track_id"] for face in result["faces"]]
    assert len(set(ids)) == 2 and result["trigger"] == "continuous"
    jsonschema.validate(result, RESULT_SCHEMA)
    states = watcher.latest  # retained states, published beside the results
    wait.until(lambda: (states.get(FACES), states.get(PRESENCE)) == (b"2", b"ON"),
               what="2 faces present")

    frames = source.reads
    wait.until(lambda: source.reads >= frames + 4, what="both stay a few frames")
    detector.boxes = [FaceBox(12, 10, 60, 60)]  # the second person leaves
    visit = json.loads(watcher.next("emotion-edge/dev/person")[1])
    assert visit["track_id"] == ids[1]
    assert set(visit) == {"track_id", "device", "first_seen", "last_seen", "duration_s",
                          "emotions", "model"}
    assert visit["emotions"] == {"happy": 1.0} and visit["duration_s"] > 0
    assert visit["first_seen"] <= visit["last_seen"]
    wait.until(lambda: states.get(FACES) == b"1", what="1 face left")

    detector.boxes = []  # everyone leaves
    assert json.loads(watcher.next("emotion-edge/dev/person")[1])["track_id"] == ids[0]
    wait.until(lambda: (states.get(FACES), states.get(PRESENCE)) == (b"0", b"OFF"),
               what="nobody present")
    late = watch(mosquitto, ("emotion-edge/dev/presence",))  # retained for a late reader
    assert late.next()[1:] == (b"OFF", True)


def test_a_pause_ends_every_track_and_says_nobody_is_present(
        mosquitto: Broker, watch: Watch, app: tuple[App, FixedDetector, CountingSource]) -> None:
    watcher = watch(mosquitto, TOPICS)
    running, _, _ = app
    running.start()
    states = watcher.latest
    wait.until(lambda: states.get(PRESENCE) == b"ON", what="people present")
    watcher.publish("emotion-edge/dev/pause/set", "ON")
    ended = {json.loads(watcher.next("emotion-edge/dev/person")[1])["track_id"]
             for _ in range(2)}
    assert len(ended) == 2
    wait.until(lambda: (states.get(FACES), states.get(PRESENCE)) == (b"0", b"OFF"),
               what="nobody present while paused")
    paused = json.loads(watcher.next("emotion-edge/dev/result")[1])
    while paused["error"] is None:  # results made before the pause may still arrive
        paused = json.loads(watcher.next("emotion-edge/dev/result")[1])
    assert paused["error"]["kind"] == "paused" and paused["trigger"] == "continuous"
