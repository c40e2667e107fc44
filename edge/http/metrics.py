"""`Metrics`: Prometheus metrics from `prometheus_client`, in a registry of their own.

Counters and histograms are updated by `observe(result)` on the worker thread (a lock and
an add each); gauges are read from the app's `Status` only when Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import get_args

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from edge.http.status import Status
from edge.ports import Result, TriggerKind

PREFIX = "emotion_edge"
STAGES = ("capture", "detect", "classify", "total")
ERROR_KINDS = ("camera", "pipeline", "internal", "busy")  # the result contract's error kinds
# seconds; a YuNet + crops capture is ~20 ms on a 2-core x86 VM, several times that on a Pi
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Owns one `CollectorRegistry` (never prometheus_client's global one). Thread-safe."""

    def __init__(self, status: Callable[[], Status],
                 frames_encoded: Callable[[], int] = lambda: 0) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.captures = Counter(f"{PREFIX}_captures", "Captures made, by trigger",
                                ["trigger"], registry=self.registry)
        self.results = Counter(f"{PREFIX}_results", "Captures made, by the emotion of the "
                               "largest face (none: no face)", ["emotion"],
                               registry=self.registry)
        self.errors = Counter(f"{PREFIX}_errors", "Triggers answered with an error, by kind",
                              ["kind"], registry=self.registry)
        self.latency = Histogram(f"{PREFIX}_stage_latency_seconds",
                                 "Time per pipeline stage of a capture made", ["stage"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        # series exist at 0 from the start, so rate() and alerts see the first one
        for trigger in get_args(TriggerKind):
            self.captures.labels(trigger)
        for kind in ERROR_KINDS:
            self.errors.labels(kind)
        for stage in STAGES:
            self.latency.labels(stage)
        self._faces = 0
        self.registry.register(_StatusCollector(status, lambda: self._faces, frames_encoded))

    def observe(self, result: Result) -> None:
        """Worker thread, after every trigger: a capture made or an error result."""
        if result.error is not None:
            self.errors.labels(result.error.get("kind", "unknown")).inc()
            return
        self.captures.labels(result.trigger).inc()
        top = result.dominant
        self.results.labels(top.label if top else "none").inc()
        for stage in STAGES:
            ms = result.latency_ms.get(stage)
            if ms is not None:
                self.latency.labels(stage).observe(ms / 1000.0)
        self._faces = len(result.faces)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


class _StatusCollector(Collector):
    """Gauges read at scrape time from the app's status."""

    def __init__(self, status: Callable[[], Status], faces: Callable[[], int],
                 frames_encoded: Callable[[], int]) -> None:
        self._status = status
        self._faces = faces
        self._encoded = frames_encoded

    def collect(self) -> Iterator[Metric]:
        s = self._status()
        yield _gauge("spool_depth", "Results spooled, not yet acknowledged by the broker",
                     s.spool_depth)
        yield _gauge("queue_depth", "Triggers waiting for the worker", s.queue_depth)
        yield _gauge("last_faces", "Faces in the last capture made", self._faces())
        yield CounterMetricFamily(f"{PREFIX}_triggers_dropped",
                                  "Triggers dropped on a full queue", value=s.dropped)
        yield CounterMetricFamily(f"{PREFIX}_http_frames_encoded",
                                  "Frames encoded as JPEG for the page (only while it is on)",
                                  value=self._encoded())
        yield _gauge("healthy", "1 when /healthz answers 200", int(s.problem is None))
        yield _gauge("mqtt_connected", "1 while connected to the broker", int(s.is_connected))
        yield _gauge("paused", "1 while captures are paused", int(s.is_paused))
        info = InfoMetricFamily(f"{PREFIX}_build", "The model and face detector in use")
        info.add_metric([], {"model": s.model, "detector": s.detector, "device": s.device_id})
        yield info


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", text, value=value)
