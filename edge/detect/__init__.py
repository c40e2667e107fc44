"""Face detectors: one backend per file (`haar.py`: OpenCV Haar cascade)."""

from __future__ import annotations

from edge.ports import FaceBox, Frame


class WholeFrameDetector:
    """Treats the whole frame as one face, for images that are already face crops
    (`emotion-edge detect --no-detect`). Holds nothing; `close` does nothing."""

    def detect(self, frame: Frame) -> list[FaceBox]:
        height, width = frame.image.shape[:2]
        return [FaceBox(0, 0, width, height)]

    def close(self) -> None:
        """Nothing to release."""
