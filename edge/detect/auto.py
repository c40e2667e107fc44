"""`kind = "auto"`, the default: YuNet when it loads, else the Haar cascade with one warning."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field

from edge.detect.haar import HaarDetectorConfig, HaarFaceDetector
from edge.detect.yunet import YunetFaceDetector, YunetKeys
from edge.errors import ModelError
from edge.ports import FaceDetector


class AutoDetectorConfig(YunetKeys):
    kind: Literal["auto"] = Field(
        "auto", description="the best detector that loads: YuNet (keys below) when OpenCV >= 4.8 "
        "has cv2.FaceDetectorYN and the model file verifies, else the Haar cascade with its "
        "defaults and one warning")


def open_best(cfg: AutoDetectorConfig, warn: Callable[[str], None]) -> FaceDetector:
    """YuNet, or Haar after calling `warn` once with the reason and the fix."""
    try:
        return YunetFaceDetector(cfg)
    except ModelError as e:
        detector = HaarFaceDetector(HaarDetectorConfig())
        warn(f"YuNet face detector unavailable, using the Haar cascade, which misses many "
             f"real faces: {e} (or set detector.kind = \"haar\" to choose Haar on purpose)")
        return detector
