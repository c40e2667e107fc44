"""Home Assistant discovery: the six entities, safe object ids, and their republish on HA's
birth."""

from __future__ import annotations

import json
from collections.abc import Callable

from edge.mqtt.config import DiscoveryConfig, MqttConfig
from edge.mqtt.connection import MqttConnection
from edge.mqtt.discovery import HomeAssistantDiscovery, discovery_messages, object_id
from tests.fakes import LABELS
from tests.fixtures.broker import Broker, Watcher

Watch = Callable[..., Watcher]
BASE = "homeassistant/{}/emotion_edge_dev/{}/config"
ENTITIES = 6


def test_entities_and_republish_on_home_assistant_online(mosquitto: Broker,
                                                         watch: Watch) -> None:
    watcher = watch(mosquitto, ("homeassistant/+/+/+/config",))
    conn = MqttConnection(MqttConfig(**mosquitto.mqtt_config()), "dev", {})
    HomeAssistantDiscovery(DiscoveryConfig(), conn, LABELS).start()
    conn.open()
    try:
        got: dict[str, dict[str, object]] = {}
        while len(got) < ENTITIES:
            topic, payload, _ = watcher.next()
            got[topic] = json.loads(payload)
        assert set(got) == {BASE.format("button", "capture"), BASE.format("sensor", "emotion"),
                            BASE.format("sensor", "confidence"), BASE.format("sensor", "faces"),
                            BASE.format("binary_sensor", "presence"),
                            BASE.format("switch", "pause")}
        button = got[BASE.format("button", "capture")]
        assert button["command_topic"] == "emotion-edge/dev/capture/set"
        emotion = got[BASE.format("sensor", "emotion")]
        assert emotion["device_class"] == "enum"
        assert emotion["options"] == [*LABELS, "none"]
        assert emotion["state_topic"] == "emotion-edge/dev/emotion"
        faces = got[BASE.format("sensor", "faces")]
        assert faces["state_topic"] == "emotion-edge/dev/faces"
        presence = got[BASE.format("binary_sensor", "presence")]
        assert presence["device_class"] == "occupancy"
        assert presence["state_topic"] == "emotion-edge/dev/presence"
        assert (presence["payload_on"], presence["payload_off"]) == ("ON", "OFF")
        switch = got[BASE.format("switch", "pause")]
        assert switch["command_topic"] == "emotion-edge/dev/pause/set"
        assert switch["state_topic"] == "emotion-edge/dev/paused"
        assert (switch["payload_on"], switch["payload_off"]) == ("ON", "OFF")
        for payload in got.values():
            assert payload["availability_topic"] == "emotion-edge/dev/status"
            assert payload["device"]["identifiers"] == ["emotion_edge_dev"]
        watcher.publish("homeassistant/status", "online")
        again = {watcher.next()[0] for _ in range(ENTITIES)}
        assert again == set(got)
        late = watch(mosquitto, ("homeassistant/+/+/+/config",))
        assert late.next()[2] is True  # retained for a Home Assistant that starts later
    finally:
        conn.close()


def test_press_payload_is_a_capture_command() -> None:
    """What Home Assistant's button sends, as its discovery config tells it, is a capture."""
    from edge.mqtt.commands import parse_command

    conn = MqttConnection(MqttConfig(), "dev", {})
    button = discovery_messages(DiscoveryConfig(), conn, LABELS)[BASE.format("button",
                                                                             "capture")]
    assert button["command_topic"] == conn.topics.capture
    assert parse_command(str(button["payload_press"]).encode()).kind == "mqtt"


def test_a_camera_on_the_snapshot_topic_only_when_snapshots_are_on() -> None:
    conn = MqttConnection(MqttConfig(), "dev", {})
    camera = BASE.format("camera", "snapshot")
    assert camera not in discovery_messages(DiscoveryConfig(), conn, LABELS)
    messages = discovery_messages(DiscoveryConfig(), conn, LABELS, is_snapshot_enabled=True)
    assert messages[camera]["topic"] == conn.topics.snapshot == "emotion-edge/dev/snapshot"
    assert messages[camera]["availability_topic"] == "emotion-edge/dev/status"
    assert len({m["unique_id"] for m in messages.values()}) == ENTITIES + 1


def test_once_closed_it_answers_home_assistant_no_more(mosquitto: Broker, watch: Watch) -> None:
    watcher = watch(mosquitto, ("homeassistant/+/+/+/config",))
    conn = MqttConnection(MqttConfig(**mosquitto.mqtt_config()), "dev", {})
    # the connection answers a marker after the messages sent before it: a republish would
    # arrive first
    marker = "homeassistant/test/marker/done/config"
    conn.subscribe("test/marker", lambda _: conn.publish(marker, "{}"))
    discovery = HomeAssistantDiscovery(DiscoveryConfig(), conn, LABELS)
    discovery.start()
    conn.open()
    try:
        assert len({watcher.next()[0] for _ in range(ENTITIES)}) == ENTITIES
        discovery.close()
        discovery.close()  # again: nothing happens
        assert discovery.closed
        watcher.publish("homeassistant/status", "online")
        watcher.publish("test/marker", "after")
        assert watcher.next()[0] == marker
    finally:
        conn.close()


def test_the_switch_payloads_are_pause_commands() -> None:
    from edge.mqtt.pause import parse_switch

    conn = MqttConnection(MqttConfig(), "dev", {})
    switch = discovery_messages(DiscoveryConfig(), conn, LABELS)[BASE.format("switch", "pause")]
    assert parse_switch(str(switch["payload_on"]).encode()) is True
    assert parse_switch(str(switch["payload_off"]).encode()) is False


def test_object_ids_are_safe_for_any_device_name() -> None:
    """double-take#396: an empty or odd name made an illegal discovery topic. Whatever the
    device id, every discovery topic has five levels of [A-Za-z0-9_-] only."""
    import re

    for device in ("", "pi", "Living Room/cam#1", "+", "é-ü", "a" * 3, "--", "dev.local"):
        assert re.fullmatch(r"[A-Za-z0-9_-]+", object_id(device)), device
        conn = MqttConnection(MqttConfig(), device or "x", {})
        object.__setattr__(conn.topics, "device", device)
        for topic in discovery_messages(DiscoveryConfig(), conn, LABELS):
            levels = topic.split("/")
            assert len(levels) == 5 and all(re.fullmatch(r"[A-Za-z0-9_-]+", x) for x in levels)
    assert object_id("pi") == "pi" and object_id("kitchen-1") == "kitchen-1"  # ids kept
    assert object_id("") == "unnamed"
