"""Home Assistant MQTT discovery: a capture button, an emotion sensor, a confidence sensor, a
face-count sensor, an occupancy binary sensor and a switch that pauses detection, plus a
camera showing the last annotated capture when snapshots are on, grouped under one device
and available while `<prefix>/<device>/status` is `online`.

The configs are retained and published on every connect and again whenever Home Assistant
announces `online` on `<discovery prefix>/status` (it forgets entities when it restarts
without a retained config).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from edge.lifetime import Resource
from edge.mqtt.config import DiscoveryConfig
from edge.mqtt.connection import MqttConnection

log = logging.getLogger(__name__)


def object_id(device: str) -> str:
    """`device` as a discovery topic level and unique-id part: only [A-Za-z0-9_-] (Home
    Assistant's rule for node and object ids; MQTT wildcards, slashes and spaces become
    `_`), never empty, so no device name can make an illegal topic. Valid names pass
    unchanged, so entities keep their unique ids."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", device).strip("_-")
    return safe or "unnamed"


def discovery_messages(cfg: DiscoveryConfig, conn: MqttConnection, labels: Sequence[str],
                       is_snapshot_enabled: bool = False) -> dict[str, dict[str, Any]]:
    """Config topic -> payload for each entity."""
    topics = conn.topics
    device_key = f"emotion_edge_{object_id(topics.device)}"
    common: dict[str, Any] = {
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": {"identifiers": [device_key], "name": f"Emotion edge {topics.device}",
                   "manufacturer": "emotion-edge", "model": "Raspberry Pi emotion camera"},
    }
    button = {**common, "name": "Capture", "unique_id": f"{device_key}_capture",
              "command_topic": topics.capture, "payload_press": "PRESS", "icon": "mdi:camera"}
    emotion = {**common, "name": "Emotion", "unique_id": f"{device_key}_emotion",
               "state_topic": topics.emotion, "device_class": "enum",
               "options": [*labels, "none"], "icon": "mdi:emoticon-outline"}
    confidence = {**common, "name": "Emotion confidence",
                  "unique_id": f"{device_key}_confidence", "state_topic": topics.result,
                  "unit_of_measurement": "%", "state_class": "measurement",
                  "value_template": "{{ ((value_json.confidence or 0) * 100) | round(1) }}"}
    faces = {**common, "name": "Faces", "unique_id": f"{device_key}_faces",
             "state_topic": topics.faces, "state_class": "measurement",
             "icon": "mdi:account-multiple"}
    presence = {**common, "name": "Presence", "unique_id": f"{device_key}_presence",
                "state_topic": topics.presence, "device_class": "occupancy",
                "payload_on": "ON", "payload_off": "OFF"}
    pause = {**common, "name": "Pause camera", "unique_id": f"{device_key}_pause",
             "command_topic": topics.pause, "state_topic": topics.paused,
             "payload_on": "ON", "payload_off": "OFF", "icon": "mdi:camera-off"}
    base = f"{cfg.prefix}/{{}}/{device_key}/{{}}/config"
    messages = {base.format("button", "capture"): button,
                base.format("sensor", "emotion"): emotion,
                base.format("sensor", "confidence"): confidence,
                base.format("sensor", "faces"): faces,
                base.format("binary_sensor", "presence"): presence,
                base.format("switch", "pause"): pause}
    if is_snapshot_enabled:  # the JPEG payloads as they are: HA's MQTT camera takes raw bytes
        messages[base.format("camera", "snapshot")] = {
            **common, "name": "Last capture", "unique_id": f"{device_key}_snapshot",
            "topic": topics.snapshot, "icon": "mdi:face-recognition"}
    return messages


class HomeAssistantDiscovery(Resource):
    """Publishes the discovery configs (retained, QoS 1) on each connect and on Home
    Assistant's `online` birth message. Callbacks run on paho's thread and only publish.
    The app starts it after the connection exists and closes it before the connection;
    once closed it publishes nothing more (the configs stay retained on purpose)."""

    def __init__(self, cfg: DiscoveryConfig, conn: MqttConnection, labels: Sequence[str],
                 is_snapshot_enabled: bool = False) -> None:
        self._conn = conn
        self._messages = discovery_messages(cfg, conn, labels, is_snapshot_enabled)
        self._ha_status = f"{cfg.prefix}/status"

    def start(self) -> None:
        self._conn.add_connect_listener(self.publish_all)
        self._conn.subscribe(self._ha_status, self._on_ha_status)
        if self._conn.is_connected.is_set():
            self.publish_all()

    def publish_all(self) -> None:
        if self.closed:
            return
        for topic, payload in self._messages.items():
            self._conn.publish(topic, json.dumps(payload), is_retained=True)
        log.debug("published %d Home Assistant discovery configs", len(self._messages))

    def _on_ha_status(self, payload: bytes) -> None:
        if payload.strip() == b"online" and not self.closed:
            log.info("Home Assistant came online: republishing discovery")
            self.publish_all()
