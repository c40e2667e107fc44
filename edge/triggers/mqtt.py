"""MqttTrigger: a capture on each message to `<prefix>/<device>/capture/set`.

Empty or plain payload (`PRESS`, `1`, ...): capture now. A JSON object
`{"request_id": "..."}`: capture and echo the id in the result. Anything else (broken JSON,
JSON that is not an object, a non-string id, an oversized payload): one log line, ignored.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from edge.ports import TriggerEvent
from edge.publish.connection import MqttConnection

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 1024
MAX_REQUEST_ID_CHARS = 128


class BadCommand(ValueError):
    """A capture command that is ignored; the message says why."""


def parse_command(payload: bytes) -> TriggerEvent:
    """The capture event a payload asks for, or BadCommand."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BadCommand(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError as e:
        raise BadCommand("payload is not UTF-8 text") from e
    if not text.startswith(("{", "[", '"')):
        return TriggerEvent("mqtt", at=time.time())
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadCommand(f"payload is not valid JSON ({e.msg})") from e
    if not isinstance(data, dict):
        raise BadCommand(f"JSON payload must be an object, not {type(data).__name__}")
    request_id = data.get("request_id")
    if request_id is not None and not isinstance(request_id, str):
        raise BadCommand(f"request_id must be a string, not {type(request_id).__name__}")
    if request_id is not None and not 0 < len(request_id) <= MAX_REQUEST_ID_CHARS:
        raise BadCommand(f"request_id must have 1 to {MAX_REQUEST_ID_CHARS} characters")
    return TriggerEvent("mqtt", request_id=request_id, at=time.time())


class MqttTrigger:
    """Subscribes to the capture topic on the shared connection (renewed on every
    reconnect). `fire` runs on paho's network thread and only enqueues. The connection
    is owned by the app, not by this trigger."""

    def __init__(self, connection: MqttConnection) -> None:
        self._conn = connection
        self._fire: Callable[[TriggerEvent], None] | None = None

    def start(self, fire: Callable[[TriggerEvent], None]) -> None:
        self._fire = fire
        self._conn.subscribe(self._conn.topics.capture, self._on_payload)

    def _on_payload(self, payload: bytes) -> None:
        if self._fire is None:
            return
        try:
            event = parse_command(payload)
        except BadCommand as e:
            log.warning("ignored capture command on %s: %s", self._conn.topics.capture, e)
            return
        self._fire(event)

    def close(self) -> None:
        self._fire = None
