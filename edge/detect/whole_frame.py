"""`WholeFrameDetector`: every frame is one face, for images that are already face crops."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edge.config_base import StrictConfig
from edge.lifetime import Resource
from edge.ports import FaceBox, Frame


class WholeFrameConfig(StrictConfig):
    kind: Literal["whole_frame"] = Field(
        "whole_frame", description="no detection: each frame is one face (pre-cropped faces, "
        "`emotion-edge detect --no-detect`)")


class WholeFrameDetector(Resource):
    """Treats the whole frame as one face. Holds nothing; `close` releases nothing."""

    def __init__(self, cfg: WholeFrameConfig | None = None) -> None:
        """Nothing to configure: `cfg` is taken so every backend opens the same way."""

    def detect(self, frame: Frame) -> list[FaceBox]:
        height, width = frame.image.shape[:2]
        return [FaceBox(0, 0, width, height)]
