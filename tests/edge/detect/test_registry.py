"""The detector registry: `open_detector` opens the backend its `kind` names (the one
construction site for the app, the CLI and the benchmarks); tests/edge/test_registry.py
checks every kind has a backend."""

from __future__ import annotations

import numpy as np
import pytest

from edge.config import Settings
from edge.detect import open_detector
from edge.detect.config import (
    AutoDetectorConfig,
    DetectorConfig,
    HaarDetectorConfig,
    WholeFrameConfig,
    YunetDetectorConfig,
)
from edge.detect.haar import HaarFaceDetector
from edge.detect.whole_frame import WholeFrameDetector
from edge.detect.yunet import YunetFaceDetector
from tests.edge.conftest import frame_of


@pytest.mark.parametrize(("cfg", "backend"), [
    (AutoDetectorConfig(), YunetFaceDetector),
    (YunetDetectorConfig(), YunetFaceDetector),
    (HaarDetectorConfig(), HaarFaceDetector),
    (WholeFrameConfig(), WholeFrameDetector),
])
def test_open_detector_opens_the_kind_it_is_given(cfg: DetectorConfig, backend: type) -> None:
    detector = open_detector(cfg)
    try:
        assert isinstance(detector, backend)
        assert isinstance(detector.detect(frame_of(np.zeros((48, 64, 3), np.uint8))), list)
    finally:
        detector.close()


def test_the_settings_kind_chooses_the_backend_and_auto_is_the_default() -> None:
    settings = Settings.model_validate({"device_id": "pi", "detector": {"kind": "haar"}})
    assert isinstance(open_detector(settings.detector), HaarFaceDetector)
    assert isinstance(open_detector(Settings(device_id="pi").detector), YunetFaceDetector)
