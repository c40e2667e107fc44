"""The five roles of the pipeline and the data that flows between them.

Each role is a `typing.Protocol` with one or two methods plus `close()`; a backend is one
file under the role's folder. Data are frozen dataclasses, safe to pass between threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

TriggerKind = Literal["button", "mqtt", "interval", "continuous", "cli"]


@dataclass(frozen=True)
class Frame:
    """One BGR (h, w, 3) or gray (h, w) uint8 image, with where it came from."""

    image: np.ndarray
    source: str
    captured_at: float  # time.time() when it was grabbed


@dataclass(frozen=True)
class FaceBox:
    """A face in frame pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h


@dataclass(frozen=True)
class Emotion:
    """The classifier's answer for one face: the top label, its score, all scores."""

    label: str
    confidence: float
    scores: Mapping[str, float]


@dataclass(frozen=True)
class TriggerEvent:
    """Why a capture happens; request_id is echoed into the result when given."""

    kind: TriggerKind
    request_id: str | None = None
    at: float = 0.0


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
    extra: Mapping[str, Any] = field(default_factory=dict)

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
            "faces": [
                {"box": [box.x, box.y, box.w, box.h], "emotion": emo.label,
                 "confidence": round(emo.confidence, 4),
                 "scores": {k: round(v, 4) for k, v in emo.scores.items()}}
                for box, emo in self.faces
            ],
            "latency_ms": {k: round(v, 2) for k, v in self.latency_ms.items()},
            "model": self.model,
        }


class FrameSource(Protocol):
    """Delivers frames on demand. Called from the worker thread only; `read()` blocks for at
    most the source's timeout and raises CameraError when the device is gone. The app
    closes it."""

    def read(self) -> Frame: ...

    def close(self) -> None: ...


class FaceDetector(Protocol):
    """Finds every face in a frame, in frame pixel coordinates. Worker thread only."""

    def detect(self, frame: Frame) -> list[FaceBox]: ...

    def close(self) -> None: ...


class EmotionClassifier(Protocol):
    """Classifies one face crop of a frame. Worker thread only; holds one interpreter.
    `labels` and `model_name` come from the model's sidecar JSON."""

    labels: tuple[str, ...]
    model_name: str

    def classify(self, frame: Frame, box: FaceBox) -> Emotion: ...

    def close(self) -> None: ...


class ResultPublisher(Protocol):
    """Delivers results to subscribers. `publish` never blocks on the network and never loses
    a result it accepted (it spools while the broker is away). The app closes it last."""

    def publish(self, result: Result, frame: Frame | None = None) -> None: ...

    def close(self) -> None: ...


class Trigger(Protocol):
    """Starts captures: calls `fire(event)` from its own (library) thread, which only
    enqueues. `start` begins delivering; `close` stops it."""

    def start(self, fire: Callable[[TriggerEvent], None]) -> None: ...

    def close(self) -> None: ...
