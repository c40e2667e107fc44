"""`WholeFrameDetector`: every frame is one face, for images that are already face crops."""

from __future__ import annotations

from edge.detect.config import WholeFrameConfig
from edge.lifetime import Resource
from edge.ports import FaceBox, Frame


class WholeFrameDetector(Resource):
    """Treats the whole frame as one face. Holds nothing; `close` releases nothing."""

    def __init__(self, cfg: WholeFrameConfig | None = None) -> None:
        """Nothing to configure: `cfg` is taken so every backend opens the same way."""

    def detect(self, frame: Frame) -> list[FaceBox]:
        height, width = frame.image.shape[:2]
        return [FaceBox(0, 0, width, height)]
