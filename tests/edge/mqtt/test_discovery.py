"""Home Assistant discovery: the three entities, and their republish on HA's birth."""

from __future__ import annotations

import json
from collections.abc import Callable

from edge.config import DiscoveryConfig, MqttConfig
from edge.mqtt.connection import MqttConnection
from edge.mqtt.discovery import HomeAssistantDiscovery, discovery_messages
from tests.fakes import LABELS
from tests.fixtures.broker import Broker, Watcher

Watch = Callable[..., Watcher]
BASE = "homeassistant/{}/emotion_edge_dev/{}/config"


def test_entities_and_republish_on_home_assistant_online(mosquitto: Broker,
                                                         watch: Watch) -> None:
    watcher = watch(mosquitto, ("homeassistant/+/+/+/config",))
    conn = MqttConnection(MqttConfig(**mosquitto.mqtt_config()), "dev", {})
    HomeAssistantDiscovery(DiscoveryConfig(), conn, LABELS).start()
    conn.open()
    try:
        got: dict[str, dict[str, object]] = {}
        while len(got) < 3:
            topic, payload, _ = watcher.next()
            got[topic] = json.loads(payload)
        assert set(got) == {BASE.format("button", "capture"), BASE.format("sensor", "emotion"),
                            BASE.format("sensor", "confidence")}
        button = got[BASE.format("button", "capture")]
        assert button["command_topic"] == "emotion-edge/dev/capture/set"
        emotion = got[BASE.format("sensor", "emotion")]
        assert emotion["device_class"] == "enum"
        assert emotion["options"] == [*LABELS, "none"]
        assert emotion["state_topic"] == "emotion-edge/dev/emotion"
        for payload in got.values():
            assert payload["availability_topic"] == "emotion-edge/dev/status"
            assert payload["device"]["identifiers"] == ["emotion_edge_dev"]
        watcher.publish("homeassistant/status", "online")
        again = {watcher.next()[0] for _ in range(3)}
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
    assert len({m["unique_id"] for m in messages.values()}) == 4


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
        assert len({watcher.next()[0] for _ in range(3)}) == 3
        discovery.close()
        discovery.close()  # again: nothing happens
        assert discovery.closed
        watcher.publish("homeassistant/status", "online")
        watcher.publish("test/marker", "after")
        assert watcher.next()[0] == marker
    finally:
        conn.close()
