"""The pause switch over MQTT: `ON` / `OFF` on `<prefix>/<device>/pause/set` pause and resume
detection; `<prefix>/<device>/paused` carries the state, retained, sent on every connect
and change. Any other payload is ignored with one log line (at most one a minute, like
capture commands); so is a retained command."""

from __future__ import annotations

import logging

from edge.errors import ConfigError
from edge.lifetime import Resource
from edge.mqtt.commands import BadCommand, IgnoredLog
from edge.mqtt.connection import MqttConnection
from edge.pause import PauseSwitch

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 16


def parse_switch(payload: bytes) -> bool:
    """True for ON, False for OFF (any case, spaces around allowed); BadCommand otherwise."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BadCommand(f"payload of {len(payload)} bytes: send ON or OFF")
    text = payload.decode("utf-8", errors="replace").strip().upper()
    if text not in ("ON", "OFF"):
        raise BadCommand(f"payload {text[:16]!r} is neither ON nor OFF")
    return text == "ON"


class MqttPauseSwitch(Resource):
    """Connects `switch` to its MQTT topics. Callbacks run on paho's thread: they set the
    switch (a small file write) and publish. The app starts it after the connection exists
    and closes it before the connection."""

    def __init__(self, connection: MqttConnection, switch: PauseSwitch) -> None:
        self._conn = connection
        self._switch = switch
        self.ignored = IgnoredLog(connection.topics.pause, what="pause command")

    def start(self) -> None:
        self._switch.add_listener(lambda _: self.publish_state())
        self._conn.add_connect_listener(self.publish_state)
        self._conn.subscribe(self._conn.topics.pause, self._on_payload, is_event=True)

    def publish_state(self) -> None:
        if not self.closed:
            state = "ON" if self._switch.is_paused else "OFF"
            self._conn.publish(self._conn.topics.paused, state, is_retained=True)

    def _on_payload(self, payload: bytes) -> None:
        if self.closed:
            return
        try:
            is_paused = parse_switch(payload)
        except BadCommand as e:
            self.ignored.note(e)
            return
        try:
            self._switch.set(is_paused)
        except ConfigError as e:  # the state folder refuses the file: say so, keep running
            log.error("%s; the pause switch was not changed", e)

    def _close(self) -> None:
        self.ignored.flush()
