"""`FaceTracker`: follows face boxes from frame to frame. Each track's box is predicted ahead
at its smoothed velocity; a face and a track are scored by the better IoU of the face with
the track's last box or its predicted one (a face that stopped, or one that kept walking),
paired by an optimal assignment (`lap`, Jonker-Volgenant); a pair below `MIN_IOU` is no
pair.

Chosen by `python -m benchmarks --only tracking` (docs/benchmarks.md): norfair and ByteTrack
followed people no better on the same detections, and importing them (scipy.stats, or
supervision with matplotlib) costs the daemon 75-108 MB of memory; `lap` costs 0.3 MB.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.ports import FaceBox

# Below this IoU with a track's predicted box a face is someone else: at 5 fps a face that
# moves half its width between frames still overlaps its prediction well above it.
MIN_IOU = 0.1
# Weight of the newest displacement in the velocity: a detector's box jitters by a few
# pixels, which extrapolated over a hidden second would carry a still face away.
VELOCITY_WEIGHT = 0.3


@dataclass
class _Track:
    key: int
    box: np.ndarray  # x1, y1, x2, y2 of the last detection
    velocity: np.ndarray  # per frame, smoothed over the detections
    hits: int = 1  # frames seen in a row, until confirmed
    misses: int = 0  # frames missed since last seen
    is_confirmed: bool = False

    def predicted(self) -> np.ndarray:
        ahead: np.ndarray = self.box + self.velocity * (self.misses + 1)
        return ahead


class FaceTracker:
    """`update(boxes)` gives, for each box, the key of the confirmed track it belongs to, or
    None while its track is not yet confirmed (seen in fewer than `confirm_frames` frames
    in a row; one that misses a frame before is dropped). A confirmed track missed for more
    than `lost_frames` frames ends. Keys are counters,
    never shown: `People` gives each track a random id. Worker thread only; holds nothing
    to close."""

    def __init__(self, confirm_frames: int, lost_frames: int) -> None:
        import lap  # a small C extension; imported here like every vendor library

        self._lapjv = lap.lapjv
        self.confirm_frames = confirm_frames
        self.lost_frames = max(1, lost_frames)
        self._tracks: list[_Track] = []
        self._next_key = 1

    @classmethod
    def for_rate(cls, confirm_frames: int, lost_s: float, fps: float) -> FaceTracker:
        """A tracker whose lost-track delay is `lost_s` at `fps` frames per second."""
        return cls(confirm_frames, math.ceil(lost_s * fps))

    def update(self, boxes: Sequence[FaceBox]) -> list[int | None]:
        found = np.array([[b.x, b.y, b.x + b.w, b.y + b.h] for b in boxes],
                         dtype=float).reshape(-1, 4)
        pairs = self._pair(found)
        out: list[int | None] = [None] * len(boxes)
        for track in self._tracks:
            track.misses += 1
        for row, col in pairs:
            track = self._tracks[row]
            step = (found[col] - track.box) / track.misses
            track.velocity = (step if track.hits == 1 else
                              VELOCITY_WEIGHT * step + (1 - VELOCITY_WEIGHT) * track.velocity)
            track.box, track.misses = found[col], 0
            track.hits += 1
            track.is_confirmed |= track.hits >= self.confirm_frames
            out[col] = track.key if track.is_confirmed else None
        self._tracks = [t for t in self._tracks if t.misses == 0 or (
            t.is_confirmed and t.misses <= self.lost_frames)]
        paired = {col for _, col in pairs}
        for col in range(len(boxes)):
            if col not in paired:
                track = _Track(self._next_key, found[col], np.zeros(4),
                               is_confirmed=self.confirm_frames <= 1)
                self._tracks.append(track)
                out[col] = track.key if track.is_confirmed else None
                self._next_key += 1
        return out

    def _pair(self, found: np.ndarray) -> list[tuple[int, int]]:
        if not self._tracks or not len(found):
            return []
        last = np.array([t.box for t in self._tracks])
        predicted = np.array([t.predicted() for t in self._tracks])
        cost = 1.0 - np.maximum(_iou(last, found), _iou(predicted, found))
        _, rows, _ = self._lapjv(cost, extend_cost=True, cost_limit=1.0 - MIN_IOU)
        return [(r, int(c)) for r, c in enumerate(rows) if c >= 0]


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of `a` (n, 4) with every box of `b` (m, 4), x1 y1 x2 y2."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
