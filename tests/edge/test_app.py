"""The composition root in process, with role fakes for the pipeline parts and the real
paho/mosquitto, gpiozero MockFactory and SQLite underneath, or every part real where the
order of opening and closing is the point. Subprocess behaviour (signals, kill -9,
sd_notify) is in test_daemon.py."""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from benchmarks.support.broker import free_port
from edge.app import App, Parts, build
from edge.config import Settings
from tests import wait
from tests.fakes import CountingSource, FixedClassifier, FixedDetector, ListPublisher
from tests.fixtures.broker import Broker, Watcher

Watch = Callable[..., Watcher]
RESULT = "emotion-edge/dev/result"


def settings(broker: Broker, worker: dict[str, Any] | None = None, **trigger: Any) -> Settings:
    return Settings.model_validate({
        "device_id": "dev", "source": {"kind": "images", "path": "unused"},
        "trigger": {"button": {"is_enabled": False}, **trigger},
        "worker": {"min_interval_s": 0, **(worker or {})},
        "mqtt": broker.mqtt_config()})


@pytest.fixture
def running() -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def start(cfg: Settings, parts: Parts, **kwargs: Any) -> App:
        app = build(cfg, parts=parts, environ={}, **kwargs)
        apps.append(app)
        app.start()
        return app

    yield start
    for app in apps:
        app.close()


def fake_parts(publisher: ListPublisher | None = None, **kwargs: Any) -> Parts:
    return Parts(source=kwargs.get("source", CountingSource()), detector=FixedDetector(),
                 classifier=kwargs.get("classifier", FixedClassifier()), publisher=publisher)


def test_mqtt_command_gives_a_result_with_the_request_id(
        mosquitto: Broker, watch: Watch, running: Callable[..., App]) -> None:
    app = running(settings(mosquitto), fake_parts())
    assert app.connection.is_connected.wait(5)
    watcher = watch(mosquitto, (RESULT,))
    watcher.publish("emotion-edge/dev/capture/set", json.dumps({"request_id": "abc-1"}))
    result = json.loads(watcher.next(RESULT)[1])
    assert result["request_id"] == "abc-1" and result["trigger"] == "mqtt"
    assert result["emotion"] == "happy" and result["device"] == "dev"
    emotion = watch(mosquitto, ("emotion-edge/dev/emotion",))  # retained: a late reader sees it
    assert emotion.next("emotion-edge/dev/emotion")[1:] == (b"happy", True)


def test_button_press_gives_a_result_and_lights_the_led(
        mosquitto: Broker, running: Callable[..., App]) -> None:
    factory = MockFactory()
    publisher = ListPublisher()
    source = CountingSource()
    source.hang.set()
    cfg = settings(mosquitto, button={"is_enabled": True, "pin": 17, "led_pin": 27,
                                      "bounce_s": 0})
    running(cfg, fake_parts(publisher, source=source), pin_factory=factory)
    factory.pin(17).drive_low()
    try:  # the capture is hung in read(): the LED must be on meanwhile
        wait.until(lambda: factory.pin(27).state == 1, 2, "the LED lit during the capture")
    finally:
        source.unblock.set()
    assert publisher.next().trigger == "button"
    assert factory.pin(27).state == 0


def test_a_flood_is_merged_and_the_queue_is_bounded(
        mosquitto: Broker, running: Callable[..., App]) -> None:
    factory = MockFactory()
    publisher = ListPublisher()
    source = CountingSource()
    source.hang.set()  # the worker is busy while the flood comes in
    cfg = settings(mosquitto, button={"is_enabled": True, "pin": 17, "bounce_s": 0},
                   worker={"min_interval_s": 5.0, "queue_size": 4})
    app = running(cfg, fake_parts(publisher, source=source), pin_factory=factory)
    for _ in range(100):
        factory.pin(17).drive_low()
        factory.pin(17).drive_high()
    source.unblock.set()
    publisher.next()
    assert app.worker.join(0) is False
    app.shutdown.set()
    assert app.worker.join(5)
    assert len(publisher.published) == 1
    assert app.worker.dropped >= 95 and app.worker.merged <= 4


def test_interval_results_survive_a_broker_outage_in_order(
        mosquitto_persistent: Broker, watch: Watch, running: Callable[..., App]) -> None:
    broker = mosquitto_persistent
    watcher = watch(broker, (RESULT,), client_id="test-watcher")  # a session kept by the broker
    app = running(settings(broker, interval_s=0.1), fake_parts())
    assert app.connection.is_connected.wait(5)
    watcher.next(RESULT)
    broker.stop()
    publisher, worker = app.publisher, app.worker
    wait.until(lambda: publisher.depth >= 5,  # type: ignore[attr-defined]
               what="5 results spooled while the broker is away")
    broker.start()
    assert app.connection.is_connected.wait(10)
    back_at = worker.captures
    wait.until(lambda: worker.captures >= back_at + 3, what="3 captures once it is back")
    app.triggers[-1].close()  # stop the interval captures
    watcher.publish("emotion-edge/dev/capture/set", json.dumps({"request_id": "last"}))
    got = []  # every result up to the one asked for last: results arrive in order
    while (doc := json.loads(watcher.next(RESULT)[1]))["request_id"] != "last":
        got.append(doc)
    worker.close()
    wait.until(lambda: publisher.depth == 0,  # type: ignore[attr-defined]
               what="every result acknowledged and unspooled")
    assert len(got) + 2 == worker.captures  # each result once (the first and last read apart)
    assert len({r["id"] for r in got}) == len(got)
    stamps = [r["timestamp"] for r in got]
    assert stamps == sorted(stamps)  # in order


def test_continuous_mode_publishes_changes(mosquitto: Broker,
                                           running: Callable[..., App]) -> None:
    publisher = ListPublisher()
    script = ["happy"] * 4 + ["sad"] * 4
    cfg = settings(mosquitto, continuous={"is_enabled": True, "max_fps": 50,
                                          "window_frames": 1})
    running(cfg, fake_parts(publisher, classifier=FixedClassifier(label="sad", script=script)))
    first, second = publisher.next(), publisher.next()
    assert [first.dominant.label, second.dominant.label] == ["happy", "sad"]  # type: ignore[union-attr]
    assert first.trigger == "continuous"


def test_continuous_frames_get_the_models_continuous_averaging_a_button_the_default(
        mosquitto: Broker, running: Callable[..., App]) -> None:
    """Continuous mode chooses its frames' averaging (the model's cheaper one for continuous
    use); a triggered capture names none, so the classifier uses its own default."""
    factory = MockFactory()
    publisher = ListPublisher()
    classifier = FixedClassifier()  # its model: crops by default, flip for continuous use
    cfg = settings(mosquitto, button={"is_enabled": True, "pin": 17, "bounce_s": 0},
                   continuous={"is_enabled": True, "max_fps": 50})
    running(cfg, fake_parts(publisher, classifier=classifier), pin_factory=factory)
    wait.until(lambda: len(classifier.asked) >= 3, what="a few continuous frames")
    factory.pin(17).drive_low()
    while publisher.next().trigger != "button":
        pass
    asked = list(classifier.asked)
    assert asked.count(None) == 1 and set(asked) == {"flip", None}


def test_close_closes_every_part_once(mosquitto: Broker, watch: Watch,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from edge.mqtt.connection import MqttConnection
    from edge.mqtt.publisher import MqttPublisher
    from edge.mqtt.spool import Spool
    from edge.notify import Notifier
    from edge.triggers.mqtt import MqttTrigger

    closed: Counter[str] = Counter()
    parts = (CountingSource, FixedDetector, FixedClassifier, MqttConnection, MqttPublisher,
             Spool, MqttTrigger, Notifier)
    for cls in parts:
        monkeypatch.setattr(cls, "close", _counting(cls.close, cls.__name__, closed))
    app = build(settings(mosquitto), parts=fake_parts(), environ={})
    app.start()
    assert app.connection.is_connected.wait(5)
    watcher = watch(mosquitto, ("emotion-edge/dev/status",))
    # live or retained, depending on whether the app published before the watcher subscribed
    assert watcher.next()[1] == b"online"
    assert watch(mosquitto, ("emotion-edge/dev/status",)).next()[1:] == (b"online", True)
    app.close()
    assert watcher.next()[1:] == (b"offline", False)
    app.close()  # idempotent
    assert closed == {cls.__name__: 1 for cls in parts}


def every_part(broker: Broker, images: Path, model: Path, **changes: Any) -> dict[str, Any]:
    """Settings that open every kind of part for real: the images camera, the whole-frame
    detector, the tiny model, MQTT with discovery, the HTTP page, and all three triggers."""
    data = settings(broker, interval_s=60,
                    button={"is_enabled": True, "pin": 17, "led_pin": 27}).model_dump()
    data.update(source={"kind": "images", "path": str(images)},
                detector={"kind": "whole_frame"}, classifier={"model_path": str(model)},
                mqtt=broker.mqtt_config(discovery={"is_enabled": True}),
                http={"is_enabled": True, "port": free_port()}, **changes)
    return data


def record_every_part(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], Counter[str]]:
    """The name of each part whose constructor returned, in order, and how often `close()`
    was called on each kind, in call order (a part closes what it owns after itself: the
    publisher its spool, the camera its source)."""
    from edge.classify.tflite import TfliteEmotionClassifier
    from edge.detect.whole_frame import WholeFrameDetector
    from edge.http.server import HttpServer
    from edge.mqtt.connection import MqttConnection
    from edge.mqtt.discovery import HomeAssistantDiscovery
    from edge.mqtt.pause import MqttPauseSwitch
    from edge.mqtt.publisher import MqttPublisher
    from edge.mqtt.spool import Spool
    from edge.notify import Notifier
    from edge.sources.images import ImageFolderSource
    from edge.sources.reopening import ReopeningSource
    from edge.triggers.button import ButtonTrigger
    from edge.triggers.interval import IntervalTrigger
    from edge.triggers.mqtt import MqttTrigger
    from edge.worker import Worker

    opened: list[str] = []
    closing: Counter[str] = Counter()
    for cls in (ImageFolderSource, ReopeningSource, WholeFrameDetector, TfliteEmotionClassifier,
                Notifier, MqttConnection, Spool, MqttPublisher, MqttPauseSwitch,
                HomeAssistantDiscovery, Worker, HttpServer, ButtonTrigger, MqttTrigger,
                IntervalTrigger):
        monkeypatch.setattr(cls, "__init__", _recording(cls.__init__, cls.__name__, opened))
        monkeypatch.setattr(cls, "close", _counting(cls.close, cls.__name__, closing))
    return opened, closing


def test_close_closes_in_the_reverse_order_of_opening(
        mosquitto: Broker, monkeypatch: pytest.MonkeyPatch, tiny_model: Path,
        images: Path) -> None:
    """Every part the settings name, opened for real: whoever opened later closes earlier
    (the triggers before the worker, the worker before the publisher, the publisher before
    its connection, the pipeline parts last)."""
    opened, closing = record_every_part(monkeypatch)
    data = every_part(mosquitto, images, tiny_model)
    app = build(Settings.model_validate(data), environ={}, pin_factory=MockFactory())
    app.start()
    assert app.connection.is_connected.wait(5)
    app.close()
    app.close()  # idempotent
    assert len(opened) == 15 and list(closing) == opened[::-1]
    assert set(closing.values()) == {1}
    assert all(part.closed for part in (app.worker, app.publisher, app.connection,
                                        *app.servers, *app.triggers))


@pytest.mark.parametrize(("failing", "error", "last_opened"), [
    ("classifier", r"sha256 .* does not match", "WholeFrameDetector"),
    ("http", r"cannot listen on 127\.0\.0\.1:\d+: .*http\.port", "Worker"),
    ("led", r"GPIO pin 27 for the button's LED .*trigger\.button\.led_pin", "HttpServer")],
    ids=["early", "halfway", "last"])
def test_a_part_that_fails_to_open_closes_every_part_opened_before_it(
        failing: str, error: str, last_opened: str, mosquitto: Broker,
        monkeypatch: pytest.MonkeyPatch, model_copy: Path, images: Path) -> None:
    """Every part real; one fails in its constructor, early, halfway or last. `build` raises
    what to fix, having closed each part it had opened once, last opened first; the button's
    pin and the HTTP port are free again."""
    from gpiozero import LED, Button

    from edge.errors import EdgeError

    opened, closing = record_every_part(monkeypatch)
    data = every_part(mosquitto, images, model_copy)
    factory = MockFactory()
    held: list[Any] = []
    if failing == "classifier":
        model_copy.write_bytes(b"not the exported model")
    elif failing == "http":
        held.append(socket.create_server(("127.0.0.1", data["http"]["port"])))
    else:
        held.append(LED(27, pin_factory=factory))  # another program holds the LED's pin
    with pytest.raises(EdgeError, match=error):
        build(Settings.model_validate(data), environ={}, pin_factory=factory)
    assert opened[-1] == last_opened and list(closing) == opened[::-1]
    assert set(closing.values()) == {1}
    for thing in held:
        thing.close()
    Button(17, pin_factory=factory).close()  # GPIOPinInUse if a button was left open
    socket.create_server(("127.0.0.1", data["http"]["port"])).close()  # the port is free


def _recording(method: Callable[..., None], name: str,
               calls: list[str]) -> Callable[..., None]:
    def recorded(self: object, *args: Any, **kwargs: Any) -> None:
        method(self, *args, **kwargs)
        calls.append(name)
    return recorded


def _counting(close: Callable[..., None], name: str,
              closed: Counter[str]) -> Callable[..., None]:
    def counted(self: object, *args: Any, **kwargs: Any) -> None:
        closed[name] += 1
        close(self, *args, **kwargs)
    return counted


def test_parts_given_are_closed_when_building_fails(mosquitto: Broker) -> None:
    from gpiozero import Button

    from edge.errors import ConfigError

    factory = MockFactory()
    taken = Button(17, pin_factory=factory)  # another program holds the pin
    parts = fake_parts(ListPublisher())
    cfg = settings(mosquitto, button={"is_enabled": True, "pin": 17})
    with pytest.raises(ConfigError, match=r"trigger\.button\.pin"):
        build(cfg, parts=parts, environ={}, pin_factory=factory)
    assert all(part.closed for part in (parts.source, parts.detector, parts.classifier,
                                        parts.publisher))
    taken.close()


def test_with_snapshots_on_the_app_announces_a_camera_on_the_snapshot_topic(
        mosquitto: Broker, watch: Watch, running: Callable[..., App]) -> None:
    data = settings(mosquitto).model_dump()
    data["mqtt"] = mosquitto.mqtt_config(discovery={"is_enabled": True},
                                         is_snapshot_enabled=True)
    watcher = watch(mosquitto, ("homeassistant/camera/+/+/config",))
    running(Settings.model_validate(data), fake_parts())
    topic, payload, _ = watcher.next()
    assert topic == "homeassistant/camera/emotion_edge_dev/snapshot/config"
    assert json.loads(payload)["topic"] == "emotion-edge/dev/snapshot"


def test_online_means_the_capture_topic_is_subscribed(mosquitto: Broker, watch: Watch) -> None:
    """A client that sends a command on seeing `online` is heard: the connection opens only
    after the MQTT trigger subscribed (it used to open in build(), and a quick connect
    published `online` before the subscription, so the first command was lost)."""
    watcher = watch(mosquitto, ("emotion-edge/dev/status", RESULT))
    app = build(settings(mosquitto), parts=fake_parts(), environ={})
    try:
        # built, not started: not online yet (an `online` would come before our marker)
        watcher.publish("emotion-edge/dev/status", "marker")
        assert watcher.next("emotion-edge/dev/status")[1] == b"marker"
        app.start()
        assert watcher.next("emotion-edge/dev/status")[1] == b"online"
        watcher.publish("emotion-edge/dev/capture/set", json.dumps({"request_id": "at-once"}))
        assert json.loads(watcher.next(RESULT)[1])["request_id"] == "at-once"
    finally:
        app.close()
