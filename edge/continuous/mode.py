"""Continuous mode: classify live frames with no trigger, follow each face as a person, and
publish only what changes.

The worker asks `next_event()` whenever its queue is idle; it gives a `continuous` event
once the frame period (1 / max_fps) has passed, naming the averaging its frame gets
(`frame_averaging`: each frame's cost repeats, so the model may name a cheaper one than a
triggered capture's). `consider(result)` tracks the faces of each frame, averages every
person's scores over their own last `window_frames` frames, and says what to publish: the
result when a person arrives, leaves or changes emotion (or every `heartbeat_s`), and the
person message of each track that ended.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from edge.continuous.config import ContinuousConfig
from edge.continuous.people import People
from edge.ports import EmotionClassifier, FaceBox, PersonVisit, Result, TriggerEvent

Tracker = Callable[[Sequence[FaceBox]], list[int | None]]


@dataclass(frozen=True)
class Step:
    """What one frame of continuous mode publishes: a result (None: nothing changed) and the
    person messages of the tracks that ended."""

    result: Result | None
    ended: tuple[PersonVisit, ...] = ()


def frame_averaging(cfg: ContinuousConfig, classifier: EmotionClassifier) -> str:
    """The averaging of continuous mode's frames: `trigger.continuous.averaging`, else the
    one the model's sidecar names for continuous use."""
    return cfg.averaging or classifier.averagings["continuous"]


class ContinuousMode:
    """Pacing, tracking and smoothing state; used by the worker thread only, nothing to
    close. `averaging` goes with every frame's event to the classifier (None: its own);
    `tracker` maps a frame's boxes to track keys (default: `FaceTracker`)."""

    def __init__(self, cfg: ContinuousConfig, averaging: str | None = None,
                 tracker: Tracker | None = None) -> None:
        self.averaging = averaging
        self.period_s = 1.0 / cfg.max_fps
        self.heartbeat_s = cfg.heartbeat_s
        if tracker is None:
            from edge.continuous.tracking import FaceTracker

            tracker = FaceTracker.for_rate(cfg.track_confirm_frames, cfg.track_lost_s,
                                           cfg.max_fps).update
        self._track = tracker
        self.people = People(cfg.window_frames, cfg.track_lost_s)
        self._next_at = 0.0
        self._published: tuple[tuple[str, str], ...] | None = None
        self._published_at = 0.0

    def due_in_s(self, now: float | None = None) -> float:
        """Seconds until the next frame should be taken (0 when due)."""
        now = time.monotonic() if now is None else now
        return max(0.0, self._next_at - now)

    def mark_taken(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._next_at = now + self.period_s

    def next_event(self, now: float | None = None) -> TriggerEvent | None:
        """The event of the next frame when it is due (and marks it taken), else None."""
        now = time.monotonic() if now is None else now
        if self.due_in_s(now) > 0:
            return None
        self.mark_taken(now)
        return self.event(now)

    def event(self, now: float | None = None) -> TriggerEvent:
        """An event of this mode (a frame's; the worker answers a pause with one)."""
        at = time.monotonic() if now is None else now
        return TriggerEvent("continuous", at=at, averaging=self.averaging)

    @staticmethod
    def is_frame(event: TriggerEvent) -> bool:
        """True for this mode's events: never merged, smoothed, and not answered one by one
        when paused or failing."""
        return event.kind == "continuous"

    def consider(self, result: Result, now: float | None = None) -> Step:
        """Track and smooth one frame's result; what to publish."""
        now = time.monotonic() if now is None else now
        wall = time.time()
        keys = self._track([box for box, _ in result.faces])
        faces, ids, seen = [], [], set()
        is_pending = False
        for (box, emotion), key in zip(result.faces, keys, strict=True):
            if key is None:  # not yet confirmed: maybe a passer-by, maybe a false detection
                is_pending = True
                continue
            track_id, smoothed = self.people.observe(key, emotion.scores, wall, now)
            faces.append((box, smoothed))
            ids.append(track_id)
            seen.add(key)
        ended = tuple(self.people.end_lost(now, seen, result.device, result.model))
        state = self.people.labels()
        is_heartbeat = now - self._published_at >= self.heartbeat_s
        # a face about to be confirmed: the next frame tells, rather than a result without it
        if (state == self._published and not is_heartbeat) or (is_pending and not ended):
            return Step(None, ended)
        self._published, self._published_at = state, now
        return Step(replace(result, faces=tuple(faces), track_ids=tuple(ids)), ended)

    def end_all(self, device: str, model: str) -> list[PersonVisit]:
        """End every track (the camera is paused or the daemon stops)."""
        self._published = None
        return self.people.end_all(device, model)

