"""Capture commands on `<prefix>/<device>/capture/set`: what a payload asks for, or why not.

The rule, in order:
- an empty or plain-text payload (`PRESS`, `1`, ...) captures now;
- a JSON object captures; its `request_id` (a string of 1 to 128 characters) is echoed in
  the result, a missing or `null` one means "no id", and other keys are ignored, so `{}`
  and `{"foo": 1}` capture without an id;
- anything else is ignored: broken JSON, JSON that is not an object, a `request_id` of
  another type or length, nesting deeper than 32 levels, a payload over 1 KiB, and every
  retained message (commands are events; see `MqttConnection.subscribe`).
Ignored payloads are logged at most once a minute with the reason, plus a count of the rest.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from edge.ports import TriggerEvent

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 1024
MAX_REQUEST_ID_CHARS = 128
MAX_DEPTH = 32  # json.loads recurses per level and raises RecursionError near 1000
LOG_INTERVAL_S = 60.0


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
        return TriggerEvent("mqtt", at=time.monotonic())
    if _depth(text) > MAX_DEPTH:
        raise BadCommand(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(text)
    except RecursionError as e:  # not a ValueError; unreachable after _depth, kept as a guard
        raise BadCommand("JSON nested too deeply") from e
    except json.JSONDecodeError as e:
        raise BadCommand(f"payload is not valid JSON ({e.msg})") from e
    if not isinstance(data, dict):
        raise BadCommand(f"JSON payload must be an object, not {type(data).__name__}")
    request_id = data.get("request_id")
    if request_id is not None and not isinstance(request_id, str):
        raise BadCommand(f"request_id must be a string, not {type(request_id).__name__}")
    if request_id is not None and not 0 < len(request_id) <= MAX_REQUEST_ID_CHARS:
        raise BadCommand(f"request_id must have 1 to {MAX_REQUEST_ID_CHARS} characters")
    return TriggerEvent("mqtt", request_id=request_id, at=time.monotonic())


def _depth(text: str) -> int:
    """Deepest `[`/`{` nesting outside JSON strings (a cheap scan of at most 1 KiB)."""
    depth = deepest = 0
    in_string = is_escaped = False
    for char in text:
        if is_escaped:
            is_escaped = False
        elif in_string:
            is_escaped = char == "\\"
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class IgnoredLog:
    """Bounded logging of ignored payloads: the first one of each interval is logged with its
    reason, the others are counted and summed up in one line once the interval is over (at
    the next ignored payload, or at `flush`). So an SD card's journal gets at most two lines
    per interval, whatever a client sends. Thread-safe."""

    def __init__(self, topic: str, interval_s: float = LOG_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic,
                 what: str = "capture command") -> None:
        self.topic = topic
        self.what = what
        self.interval_s = interval_s
        self._clock = clock
        self.total = 0
        self._suppressed = 0
        self._window_start = float("-inf")
        self._lock = threading.Lock()

    def note(self, error: BadCommand) -> None:
        with self._lock:
            now = self._clock()
            if now - self._window_start < self.interval_s:
                self.total += 1
                self._suppressed += 1
                return
            self._summary_locked()
            self.total += 1
            self._window_start = now
        log.warning("ignored %s on %s: %s", self.what, self.topic, error)

    def flush(self) -> None:
        with self._lock:
            self._summary_locked()

    def _summary_locked(self) -> None:
        if self._suppressed:
            log.warning("ignored %d more %s(s) on %s, not logged one by one "
                        "(%d since start)", self._suppressed, self.what, self.topic, self.total)
        self._suppressed = 0
