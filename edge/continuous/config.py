"""Continuous mode's settings: pacing, smoothing and the tracks that follow each face. No
tracker import, so `edge.config` composes them."""

from __future__ import annotations

from pydantic import Field

from edge.classify.config import Averaging
from edge.config_base import StrictConfig


class ContinuousConfig(StrictConfig):
    is_enabled: bool = Field(False, description="classify frames continuously, no trigger needed")
    max_fps: float = Field(5.0, gt=0, description="cap on frames per second")
    window_frames: int = Field(
        5, ge=1, description="each person's scores are averaged over their last this many frames")
    averaging: Averaging | None = Field(
        None, description="test-time averaging of each frame (see classifier.averaging), whose "
        "cost repeats at every frame; default: the model sidecar's averaging.continuous")
    heartbeat_s: float = Field(
        60.0, gt=0, description="publish at least this often, even unchanged")
    track_confirm_frames: int = Field(
        2, ge=1, description="a face becomes a person (gets a track_id and appears in results) "
        "once it is seen in this many frames in a row; 1 trusts every single detection")
    track_lost_s: float = Field(
        2.0, gt=0, description="a person's track ends when their face has not been seen for "
        "this long; their person message goes out then")
