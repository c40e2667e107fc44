"""The pipeline: frame source -> face detector -> emotion classifier -> one `Result`.

Start reading here. `Pipeline.handle(event)` grabs a frame and returns the result with the
frame it came from; `handle_frame` does the same for a frame you already have (the
`detect` command, tests). Each stage is timed in milliseconds. The pipeline starts no
threads, reads no config and does no I/O of its own: the app wires the parts and hands the
result to the publisher.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from edge.clock import SyncState
from edge.ports import (
    EmotionClassifier,
    FaceDetector,
    Frame,
    FrameSource,
    Result,
    TriggerEvent,
)


def rfc3339(epoch_s: float) -> str:
    """UTC time with milliseconds and a Z, e.g. 2026-11-23T23:14:33.123Z."""
    stamp = datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


class Pipeline:
    """Turns a trigger into a `Result`. Called from one worker thread; owns none of its
    parts (the app opens and closes them)."""

    def __init__(self, source: FrameSource, detector: FaceDetector,
                 classifier: EmotionClassifier, device_id: str,
                 clock: Callable[[], float] = time.perf_counter,
                 is_synced: Callable[[], bool | None] | None = None) -> None:
        self.source = source
        self.detector = detector
        self.classifier = classifier
        self.device_id = device_id
        self._clock = clock
        self._is_synced = is_synced or SyncState().is_synced

    @property
    def model_name(self) -> str:
        return self.classifier.model_name

    def handle(self, event: TriggerEvent) -> tuple[Result, Frame]:
        """Grab a frame and classify every face in it; SourceError if the source fails."""
        start = self._clock()
        frame = self.source.read()
        capture_ms = (self._clock() - start) * 1000.0
        return self.handle_frame(frame, event, capture_ms=capture_ms, started=start), frame

    def handle_frame(self, frame: Frame, event: TriggerEvent, *, capture_ms: float = 0.0,
                     started: float | None = None) -> Result:
        """Classify every face of `frame`; `capture_ms` is how long getting it took."""
        start = self._clock() if started is None else started
        t0 = self._clock()
        boxes = self.detector.detect(frame)
        t1 = self._clock()
        faces = tuple((box, self.classifier.classify(frame, box, averaging=event.averaging))
                      for box in boxes)
        t2 = self._clock()
        latency = {
            "capture": capture_ms,
            "detect": (t1 - t0) * 1000.0,
            "classify": (t2 - t1) * 1000.0,
            "total": (t2 - start) * 1000.0 + (capture_ms if started is None else 0.0),
        }
        return Result(
            id=uuid.uuid4().hex, request_id=event.request_id, device=self.device_id,
            trigger=event.kind, timestamp=rfc3339(frame.captured_at), faces=faces,
            latency_ms=latency, model=self.classifier.model_name,
            time_synced=self._is_synced())

    def failed(self, event: TriggerEvent, kind: str, reason: str) -> Result:
        """The answer to `event` when no capture could be made: no faces, an `error`."""
        return Result(
            id=uuid.uuid4().hex, request_id=event.request_id, device=self.device_id,
            trigger=event.kind, timestamp=rfc3339(time.time()), faces=(), latency_ms={},
            model=self.classifier.model_name, error={"kind": kind, "reason": reason},
            time_synced=self._is_synced())
