"""The five roles of the pipeline and the data that flows between them.

Each role is a `typing.Protocol` with one or two methods, and every role is `Closable`; a
backend is one file under the role's folder. Data are frozen dataclasses, safe to pass
between threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, Self, runtime_checkable

import numpy as np

TriggerKind = Literal["button", "mqtt", "interval", "continuous", "cli"]


@dataclass(frozen=True)
class Frame:
    """One BGR (h, w, 3) or gray (h, w) uint8 image, with where it came from."""

    image: np.ndarray
    source: str
    captured_at: float  # time.time() when it was grabbed


# YuNet's five landmarks, in its order; "right" is the person's right (image left when
# they face the camera).
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")


@dataclass(frozen=True)
class CropRule:
    """How a detector's box maps to the face crop the classifier was trained on.

    FER2013-style crops are squares from brow to chin and roughly ear to ear; detectors
    draw their boxes differently (YuNet's is narrower and taller). The crop is a square of
    side `side_per_width` x the box width, centred on the box centre moved down by
    `center_dy_per_height` x the box height. Each backend calibrates its own rule
    (`python -m benchmarks --only crop`); the classifier only applies its model's margin on top.
    """

    side_per_width: float = 1.0
    center_dy_per_height: float = 0.0

    def square(self, x: int, y: int, w: int, h: int) -> tuple[int, int, int]:
        """The crop's left, top and side in frame pixels; it may reach past the frame."""
        side = max(1, round(w * self.side_per_width))
        cx = x + w / 2.0
        cy = y + h / 2.0 + h * self.center_dy_per_height
        return round(cx - side / 2.0), round(cy - side / 2.0), side


@dataclass(frozen=True)
class FaceBox:
    """A face in frame pixels: left, top, width, height; optionally the detector's landmarks
    (`KEYPOINT_NAMES` order, frame pixels) and the rule that turns the box into the
    classifier's crop (None: the box itself is the crop, as for Haar's square boxes)."""

    x: int
    y: int
    w: int
    h: int
    keypoints: tuple[tuple[int, int], ...] = ()
    crop_rule: CropRule | None = None

    @property
    def area(self) -> int:
        return self.w * self.h

    def crop_box(self) -> FaceBox:
        """The region the classifier should see, before its model's margin."""
        if self.crop_rule is None:
            return self
        x, y, side = self.crop_rule.square(self.x, self.y, self.w, self.h)
        return FaceBox(x, y, side, side)


@dataclass(frozen=True)
class Emotion:
    """The classifier's answer for one face: the top label, its score, all scores."""

    label: str
    confidence: float
    scores: Mapping[str, float]


@dataclass(frozen=True)
class TriggerEvent:
    """Why a capture happens; request_id is echoed into the result when given. `at` is
    `time.monotonic()` when it fired: wall time jumps at boot on a Pi (no RTC), and a merge
    window on it would swallow every trigger after a jump backwards. `averaging` is the
    classifier's averaging for this capture when the trigger chooses one (continuous mode's
    frames, whose cost repeats); None: the classifier's own."""

    kind: TriggerKind
    request_id: str | None = None
    at: float = 0.0
    averaging: str | None = None


@dataclass(frozen=True)
class Result:
    """One capture's outcome; `to_json_dict` is the public MQTT/CLI contract."""

    id: str
    request_id: str | None
    device: str
    trigger: TriggerKind
    timestamp: str  # RFC 3339, UTC
    faces: tuple[tuple[FaceBox, Emotion], ...]
    latency_ms: Mapping[str, float]
    model: str
    error: Mapping[str, str] | None = None  # {"kind": ..., "reason": ...}: no capture made
    time_synced: bool | None = None  # the kernel's clock-sync state; None: unknown
    track_ids: tuple[str, ...] = ()  # continuous mode: each face's person, in `faces` order

    @property
    def dominant(self) -> Emotion | None:
        """The emotion of the largest face, or None when no face was found."""
        if not self.faces:
            return None
        return max(self.faces, key=lambda face: face[0].area)[1]

    def to_json_dict(self) -> dict[str, Any]:
        top = self.dominant
        return {
            "id": self.id,
            "request_id": self.request_id,
            "device": self.device,
            "trigger": self.trigger,
            "timestamp": self.timestamp,
            "emotion": top.label if top else None,
            "confidence": round(top.confidence, 4) if top else None,
            "faces": [_face_json(box, emo, track)
                      for (box, emo), track in zip(self.faces, self._tracks(), strict=True)],
            "latency_ms": {k: round(v, 2) for k, v in self.latency_ms.items()},
            "model": self.model,
            "error": dict(self.error) if self.error is not None else None,
            "time_synced": self.time_synced,
        }

    def _tracks(self) -> tuple[str | None, ...]:
        return self.track_ids if self.track_ids else (None,) * len(self.faces)


@dataclass(frozen=True)
class PersonVisit:
    """One person's stay in front of the camera in continuous mode, told when their track
    ends. `track_id` is random per visit; nothing about the face is kept. `emotions`: the
    share of the stay each smoothed emotion was the person's dominant one (sums to 1)."""

    track_id: str
    device: str
    first_seen: str  # RFC 3339, UTC
    last_seen: str
    duration_s: float
    emotions: Mapping[str, float]
    model: str

    def to_json_dict(self) -> dict[str, Any]:
        return {"track_id": self.track_id, "device": self.device,
                "first_seen": self.first_seen, "last_seen": self.last_seen,
                "duration_s": round(self.duration_s, 2),
                "emotions": {k: round(v, 4) for k, v in self.emotions.items()},
                "model": self.model}


def _face_json(box: FaceBox, emotion: Emotion, track_id: str | None) -> dict[str, Any]:
    face: dict[str, Any] = {
        "box": [box.x, box.y, box.w, box.h], "emotion": emotion.label,
        "confidence": round(emotion.confidence, 4),
        "scores": {k: round(v, 4) for k, v in emotion.scores.items()}}
    if box.keypoints:  # only detectors with landmarks (YuNet) give them
        face["keypoints"] = {name: list(point)
                             for name, point in zip(KEYPOINT_NAMES, box.keypoints, strict=True)}
    if track_id is not None:  # continuous mode only
        face["track_id"] = track_id
    return face


class Closable(Protocol):
    """What every part is: `close()` releases what it holds and may be called again (it does
    nothing then), `closed` says whether it has been, and `with part:` closes it on the way
    out. Whoever opens a part closes it. `edge.lifetime.Resource` implements all three."""

    @property
    def closed(self) -> bool: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...


class FrameSource(Closable, Protocol):
    """Delivers frames on demand. Called from the worker thread only; `read()` blocks for at
    most the source's timeout and raises SourceError when the device is gone. `problem`
    (any thread, for STATUS=) names a lasting fault, or is None. `release()` lets go of the
    device until the next read (a pause) where the source can reopen it, as
    `ReopeningSource` can; others keep it. The app closes it."""

    def read(self) -> Frame: ...

    @property
    def problem(self) -> str | None:
        """A fault frames suffer from (the camera lost since some time), or None."""
        ...

    def release(self) -> None: ...


class FaceDetector(Closable, Protocol):
    """Finds every face in a frame, in frame pixel coordinates. Worker thread only."""

    def detect(self, frame: Frame) -> list[FaceBox]: ...


class EmotionClassifier(Closable, Protocol):
    """Classifies one face crop of a frame. Worker thread only; holds one interpreter.
    `labels`, `model_name` and `averagings` come from the model's sidecar JSON: `averagings`
    names the test-time averaging the model was measured with for each use (`default`,
    `continuous`)."""

    labels: tuple[str, ...]
    model_name: str
    averagings: Mapping[str, str]

    def classify(self, frame: Frame, box: FaceBox, *, averaging: str | None = None) -> Emotion:
        """`averaging`: the views to average (`none`, `flip`, `crops`), given by whoever
        chose it for this capture; None: the classifier's own."""
        ...


class ResultPublisher(Closable, Protocol):
    """Delivers results to subscribers. `publish` never blocks on the network and never loses
    a result it accepted (it spools while the broker is away). `depth` and `problem` are
    read from any thread for the daemon's STATUS= line. The app closes it after the worker."""

    def publish(self, result: Result, frame: Frame | None = None) -> None: ...

    def publish_person(self, visit: PersonVisit) -> None:
        """A person's visit that just ended (continuous mode); same promises as `publish`."""
        ...

    @property
    def depth(self) -> int:
        """Results accepted and not yet delivered (0 for a publisher that delivers at once)."""
        ...

    @property
    def problem(self) -> str | None:
        """A fault results suffer from (a spool the card refuses), or None."""
        ...


class Trigger(Closable, Protocol):
    """Starts captures: calls `fire(event)` from its own (library) thread, which only
    enqueues. `start` begins delivering; `close` stops it."""

    def start(self, fire: Callable[[TriggerEvent], None]) -> None: ...


@runtime_checkable
class BusyIndicator(Protocol):
    """A trigger that shows the device is capturing (the button's LED)."""

    def show_busy(self, is_busy: bool) -> None: ...
