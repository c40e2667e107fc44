"""Role fakes that behave like the real parts (no Mock bags): a frame source, a detector,
a classifier and a publisher. Use them where the real part would add nothing but time."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Mapping, Sequence

import numpy as np

from benchmarks.support.results import LABELS
from edge.errors import SourceError
from edge.lifetime import Resource
from edge.ports import Emotion, FaceBox, Frame, PersonVisit, Result
from edge.sources.base import SourceBase


class CountingSource(SourceBase):
    """Gray 120x160 frames; each `read()` is counted. `fail_next` makes reads raise
    SourceError; `hang` blocks reads until `unblock` is set (a hung camera)."""

    def __init__(self) -> None:
        self.reads = 0
        self.fail_next = 0
        self.hang = threading.Event()
        self.unblock = threading.Event()

    def read(self) -> Frame:
        self.reads += 1
        if self.hang.is_set():
            self.unblock.wait(30)
        if self.fail_next:
            self.fail_next -= 1
            raise SourceError("fake camera unplugged")
        image = np.full((120, 160), self.reads % 256, dtype=np.uint8)
        return Frame(image=image, source="fake", captured_at=time.time())


class FixedDetector(Resource):
    """Returns the same boxes for every frame."""

    def __init__(self, boxes: Sequence[FaceBox] = (FaceBox(10, 10, 60, 60),)) -> None:
        self.boxes = list(boxes)

    def detect(self, frame: Frame) -> list[FaceBox]:
        return list(self.boxes)


class FixedClassifier(Resource):
    """Answers `label` for every face, or the labels of `script` in turn; `asked` keeps the
    averaging each call named (None: its own, `averagings["default"]`)."""

    def __init__(self, label: str = "happy", script: Sequence[str] = (),
                 labels: Sequence[str] = LABELS) -> None:
        self.labels = tuple(labels)
        self.model_name = "fixed-classifier"
        self.averagings: Mapping[str, str] = {"default": "crops", "continuous": "flip"}
        self._label = label
        self._script = list(script)
        self.asked: list[str | None] = []

    def classify(self, frame: Frame, box: FaceBox, *, averaging: str | None = None) -> Emotion:
        self.asked.append(averaging)
        label = self._script.pop(0) if self._script else self._label
        scores: Mapping[str, float] = {k: (0.9 if k == label else 0.1 / 6) for k in self.labels}
        return Emotion(label, scores[label], scores)


class ListPublisher(Resource):
    """Keeps every published result in order; `results` is a queue tests can wait on.
    Delivers at once: nothing waits (`depth` 0), nothing fails (`problem` None)."""

    depth = 0
    problem: str | None = None

    def __init__(self) -> None:
        self.published: list[Result] = []
        self.results: queue.Queue[Result] = queue.Queue()
        self.frames: list[Frame | None] = []
        self.people: queue.Queue[PersonVisit] = queue.Queue()

    def publish(self, result: Result, frame: Frame | None = None) -> None:
        self.published.append(result)
        self.frames.append(frame)
        self.results.put(result)

    def publish_person(self, visit: PersonVisit) -> None:
        self.people.put(visit)

    def next(self, timeout_s: float = 5.0) -> Result:
        return self.results.get(timeout=timeout_s)

