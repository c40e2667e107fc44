"""Metrics: Prometheus text format, parsed back with prometheus_client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from edge.http.metrics import Metrics
from edge.http.status import Status
from edge.ports import Emotion, FaceBox, Result


def status(**changes: object) -> Status:
    fields: dict[str, object] = dict(
        device_id="dev", model="m@1", detector="YunetFaceDetector", is_connected=True,
        broker="b:1883", spool_depth=3, queue_depth=1, is_paused=False, captures=2, dropped=4,
        problem=None, text="connected to b:1883")
    fields.update(changes)
    return Status(**fields)  # type: ignore[arg-type]


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def made(trigger: str, faces: int) -> Result:
    face = (FaceBox(0, 0, 10, 10), Emotion("sad", 0.6, {"sad": 0.6}))
    return Result(id="x", request_id=None, device="dev", trigger=trigger,  # type: ignore[arg-type]
                  timestamp="t", faces=(face,) * faces, model="m@1",
                  latency_ms={"capture": 2.0, "detect": 8.0, "classify": 1.0, "total": 11.0})


def failed(kind: str) -> Result:
    return Result(id="y", request_id=None, device="dev", trigger="mqtt", timestamp="t",
                  faces=(), latency_ms={}, model="m@1", error={"kind": kind, "reason": "r"})


def test_counts_latencies_and_gauges() -> None:
    metrics = Metrics(lambda: status())
    metrics.observe(made("button", 2))
    metrics.observe(made("mqtt", 0))
    metrics.observe(failed("camera"))
    metrics.observe(failed("busy"))
    s = samples(metrics)
    assert s[("emotion_edge_captures_total", (("trigger", "button"),))] == 1
    assert s[("emotion_edge_captures_total", (("trigger", "mqtt"),))] == 1
    assert s[("emotion_edge_results_total", (("emotion", "sad"),))] == 1
    assert s[("emotion_edge_results_total", (("emotion", "none"),))] == 1
    assert s[("emotion_edge_errors_total", (("kind", "camera"),))] == 1
    assert s[("emotion_edge_errors_total", (("kind", "busy"),))] == 1
    assert s[("emotion_edge_stage_latency_seconds_count", (("stage", "detect"),))] == 2
    bucket = ("emotion_edge_stage_latency_seconds_bucket", (("le", "0.01"), ("stage", "detect")))
    assert s[bucket] == 2
    assert s[("emotion_edge_last_faces", ())] == 0  # the last capture made had none
    assert s[("emotion_edge_spool_depth", ())] == 3
    assert s[("emotion_edge_queue_depth", ())] == 1
    assert s[("emotion_edge_triggers_dropped_total", ())] == 4
    assert s[("emotion_edge_mqtt_connected", ())] == 1
    assert s[("emotion_edge_healthy", ())] == 1
    assert s[("emotion_edge_build_info", (("detector", "YunetFaceDetector"), ("device", "dev"),
                                          ("model", "m@1")))] == 1
    assert s[("emotion_edge_paused", ())] == 0


def test_unhealthy_disconnected_and_paused() -> None:
    metrics = Metrics(lambda: status(is_connected=False, problem="NOT connected", is_paused=True))
    s = samples(metrics)
    assert s[("emotion_edge_mqtt_connected", ())] == 0
    assert s[("emotion_edge_healthy", ())] == 0
    assert s[("emotion_edge_paused", ())] == 1


def test_two_daemons_in_one_process_do_not_share_a_registry() -> None:
    first, second = Metrics(lambda: status()), Metrics(lambda: status())
    first.observe(made("button", 1))
    assert samples(second)[("emotion_edge_captures_total", (("trigger", "button"),))] == 0


def test_every_series_exists_at_zero_from_the_start() -> None:
    s = samples(Metrics(lambda: status()))
    for trigger in ("button", "mqtt", "interval", "continuous", "cli"):
        assert s[("emotion_edge_captures_total", (("trigger", trigger),))] == 0
    for kind in ("camera", "pipeline", "internal", "busy"):
        assert s[("emotion_edge_errors_total", (("kind", kind),))] == 0
