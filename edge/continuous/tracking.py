"""`FaceTracker`: follows face boxes from frame to frame with norfair (IoU distance, Kalman
prediction). Chosen by `python -m benchmarks --only tracking` (see docs/benchmarks.md): it
matched the other candidates' identity figures and adds only pure-Python norfair, `rich`
and scipy to the install."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from edge.ports import FaceBox

# 1 - IoU of the predicted and the detected box must stay below this to match: at 5 fps a
# face that moves half its width between frames still overlaps its prediction.
MAX_IOU_DISTANCE = 0.95


class FaceTracker:
    """norfair's `Tracker` behind one method. `update(boxes)` gives, for each box, the id of
    the confirmed track it belongs to, or None while its track is not yet confirmed (seen
    in fewer than `confirm_frames` frames in a row). A track that misses about `lost_frames`
    frames ends. Ids are norfair's counters, never shown to anyone: `People` gives each
    track a random one. Worker thread only; holds nothing to close."""

    def __init__(self, confirm_frames: int, lost_frames: int) -> None:
        from norfair import Tracker

        self._frame = 0
        self._tracker = Tracker(distance_function="iou", distance_threshold=MAX_IOU_DISTANCE,
                                hit_counter_max=max(1, lost_frames),
                                initialization_delay=confirm_frames - 1)

    @classmethod
    def for_rate(cls, confirm_frames: int, lost_s: float, fps: float) -> FaceTracker:
        """A tracker whose lost-track delay is `lost_s` at `fps` frames per second."""
        return cls(confirm_frames, math.ceil(lost_s * fps))

    def update(self, boxes: Sequence[FaceBox]) -> list[int | None]:
        from norfair import Detection

        self._frame += 1
        detections = [Detection(np.array([[b.x, b.y], [b.x + b.w, b.y + b.h]], dtype=float),
                                data=(self._frame, i)) for i, b in enumerate(boxes)]
        ids: list[int | None] = [None] * len(boxes)
        for tracked in self._tracker.update(detections):
            frame, index = tracked.last_detection.data
            # last_detection outlives the frame it matched in: only this frame's count
            if tracked.id is not None and frame == self._frame:
                ids[index] = tracked.id
        return ids
