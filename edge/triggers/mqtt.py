"""MqttTrigger: a capture on each accepted command on `<prefix>/<device>/capture/set`.

Which payloads are accepted is `edge.mqtt.commands`; the connection is `edge.mqtt`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from edge.lifetime import Resource
from edge.mqtt.commands import LOG_INTERVAL_S, BadCommand, IgnoredLog, parse_command
from edge.mqtt.connection import MqttConnection
from edge.ports import TriggerEvent

log = logging.getLogger(__name__)


class MqttTrigger(Resource):
    """Subscribes to the capture topic on the shared connection (renewed on every
    reconnect). `fire` runs on paho's network thread and only enqueues. The connection
    is owned by the app, not by this trigger; closing stops firing and logs what was
    ignored since the last log line."""

    def __init__(self, connection: MqttConnection, log_interval_s: float = LOG_INTERVAL_S) -> None:
        self._conn = connection
        self._fire: Callable[[TriggerEvent], None] | None = None
        self.ignored = IgnoredLog(connection.topics.capture, log_interval_s)

    def start(self, fire: Callable[[TriggerEvent], None]) -> None:
        self._fire = fire
        self._conn.subscribe(self._conn.topics.capture, self._on_payload, is_event=True)

    def _on_payload(self, payload: bytes) -> None:
        if self._fire is None:
            return
        try:
            event = parse_command(payload)
        except BadCommand as e:
            self.ignored.note(e)
            return
        self._fire(event)

    def _close(self) -> None:
        self._fire = None
        self.ignored.flush()
