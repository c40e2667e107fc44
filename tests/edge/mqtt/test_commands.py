"""Capture commands: which payloads capture, which are ignored, and how ignoring is logged."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.mqtt.commands import MAX_PAYLOAD_BYTES, BadCommand, parse_command


@pytest.mark.parametrize("payload", [b"", b"PRESS", b"1", b"  \n", b"capture"])
def test_plain_payload_captures_now(payload: bytes) -> None:
    event = parse_command(payload)
    assert event.kind == "mqtt" and event.request_id is None and event.at > 0


def test_request_id_is_echoed() -> None:
    assert parse_command(b'{"request_id": "r-42"}').request_id == "r-42"
    assert parse_command(b'{"other": 1}').request_id is None


@pytest.mark.parametrize(("payload", "why"), [
    (b'{"request_id": 5}', "must be a string"),
    (b'{"request_id": ""}', "1 to 128"),
    (b'{"request_id": "' + b"x" * 200 + b'"}', "1 to 128"),
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "must be an object"),
    (b'"just a string"', "must be an object"),
    (b"\xff\xfe", "not UTF-8"),
    (b"x" * (MAX_PAYLOAD_BYTES + 1), "exceeds"),
])
def test_bad_payloads_are_refused_with_a_reason(payload: bytes, why: str) -> None:
    with pytest.raises(BadCommand, match=why):
        parse_command(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4), max_leaves=10)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2 * MAX_PAYLOAD_BYTES) | json_values.map(
    lambda v: json.dumps(v).encode()) | st.builds(
    lambda v: json.dumps({"request_id": v}).encode(), json_values))
def test_any_payload_gives_an_event_or_bad_command(payload: bytes) -> None:
    try:
        event = parse_command(payload)
    except BadCommand:
        return
    assert event.request_id is None or isinstance(event.request_id, str)


@pytest.mark.parametrize("payload", [b"[" * 1000, b'{"a":' * 200, b"[" * 33 + b"]" * 33,
                                     b'{"request_id": "r", "x": ' + b"[" * 40 + b"]" * 40 + b"}"])
def test_deep_nesting_is_refused_not_a_recursion_error(payload: bytes) -> None:
    with pytest.raises(BadCommand, match="nested deeper than 32"):
        parse_command(payload)


def test_nesting_up_to_the_limit_and_brackets_in_strings_are_fine() -> None:
    nested = b'{"request_id": "r1", "x": ' + b"[" * 31 + b"]" * 31 + b"}"
    assert parse_command(nested).request_id == "r1"
    quoted = json.dumps({"request_id": "[" * 100 + '\\"{'}).encode()
    assert parse_command(quoted).request_id == "[" * 100 + '\\"{'


@pytest.mark.parametrize("payload", [b"{}", b'{"foo": 1}', b'{"request_id": null}',
                                     b'{"request_id": null, "foo": [1, {"b": 2}]}'])
def test_any_json_object_captures_without_an_id_unless_request_id_is_a_string(
        payload: bytes) -> None:
    event = parse_command(payload)
    assert event.kind == "mqtt" and event.request_id is None


def test_ignored_payloads_are_logged_once_per_interval_with_a_count(
        caplog: pytest.LogCaptureFixture) -> None:
    from edge.mqtt.commands import IgnoredLog

    caplog.set_level(logging.WARNING, logger="edge.mqtt.commands")
    now = [100.0]
    ignored = IgnoredLog("t/capture/set", interval_s=60, clock=lambda: now[0])
    for _ in range(1000):
        ignored.note(BadCommand("payload is not UTF-8 text"))
        now[0] += 0.05  # 1000 payloads in 50 s: all inside one interval
    assert len(caplog.records) == 1 and "not UTF-8" in caplog.records[0].getMessage()
    now[0] += 10
    ignored.note(BadCommand("JSON nested deeper than 32 levels"))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "999 more capture command(s)" in lines[1] and "1000 since start" in lines[1]
    assert "nested" in lines[2]
    ignored.note(BadCommand("x"))
    ignored.flush()  # at close: the count of the last interval is not lost
    assert "1 more capture command(s)" in caplog.records[-1].getMessage()
    assert ignored.total == 1002
