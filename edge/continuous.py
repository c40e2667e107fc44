"""Continuous mode: classify live frames with no trigger, publish only what changes.

The worker runs a `continuous` capture whenever its queue is idle and the frame period
(1 / max_fps) has passed. Scores are averaged over the last `window_frames` frames; a
result is published when the smoothed dominant emotion changes, or every `heartbeat_s`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import replace

from edge.config import ContinuousConfig
from edge.ports import Emotion, Result

NONE = "none"


class ContinuousMode:
    """Pacing and smoothing state; used by the worker thread only, nothing to close."""

    def __init__(self, cfg: ContinuousConfig) -> None:
        self.period_s = 1.0 / cfg.max_fps
        self.heartbeat_s = cfg.heartbeat_s
        self._window: deque[Mapping[str, float] | None] = deque(maxlen=cfg.window_frames)
        self._next_at = 0.0
        self._published_label: str | None = None
        self._published_at = 0.0

    def due_in_s(self, now: float | None = None) -> float:
        """Seconds until the next frame should be taken (0 when due)."""
        now = time.monotonic() if now is None else now
        return max(0.0, self._next_at - now)

    def mark_taken(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._next_at = now + self.period_s

    def consider(self, result: Result, now: float | None = None) -> Result | None:
        """The smoothed result to publish, or None when nothing changed."""
        now = time.monotonic() if now is None else now
        top = result.dominant
        self._window.append(dict(top.scores) if top else None)
        smoothed = self._smoothed()
        label = smoothed.label if smoothed else NONE
        is_heartbeat = now - self._published_at >= self.heartbeat_s
        if label == self._published_label and not is_heartbeat:
            return None
        if smoothed is not None and not result.faces:
            return None  # no face to carry the emotion: the next frame with one publishes it
        self._published_label, self._published_at = label, now
        return _with_dominant(result, smoothed)

    def _smoothed(self) -> Emotion | None:
        seen = [scores for scores in self._window if scores is not None]
        if not seen or len(seen) * 2 < len(self._window):  # mostly no face
            return None
        labels = list(seen[0])
        mean = {k: sum(s.get(k, 0.0) for s in seen) / len(seen) for k in labels}
        best = max(mean, key=lambda k: mean[k])
        return Emotion(best, mean[best], mean)


def _with_dominant(result: Result, smoothed: Emotion | None) -> Result:
    if smoothed is None:
        return replace(result, faces=())
    largest = max(range(len(result.faces)), key=lambda i: result.faces[i][0].area)
    faces = list(result.faces)
    faces[largest] = (faces[largest][0], smoothed)
    return replace(result, faces=tuple(faces))
