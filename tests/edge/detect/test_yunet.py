"""YuNet on the real astronaut photo and blank frames; the default (auto) falling back to Haar
when the model file or OpenCV cannot run it, and an explicit kind = "yunet" failing instead."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.assets import asset_path
from edge.detect import open_detector
from edge.detect.config import AutoDetectorConfig, HaarDetectorConfig, YunetDetectorConfig
from edge.detect.haar import HaarFaceDetector
from edge.detect.yunet import CROP_RULE, MODEL_ASSET, YunetFaceDetector
from edge.errors import ModelError
from edge.ports import FaceBox
from tests.edge.conftest import ASTRONAUT_FACE, frame_of, iou, place


def as_tuple(box: FaceBox) -> tuple[int, int, int, int]:
    return box.x, box.y, box.w, box.h


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped model and its sidecar, safe to damage."""
    model = asset_path(MODEL_ASSET)
    shutil.copy(model, tmp_path / model.name)
    shutil.copy(model.with_suffix(".json"), tmp_path / model.with_suffix(".json").name)
    return tmp_path / model.name


def test_finds_the_astronauts_face_with_its_keypoints(astronaut: np.ndarray) -> None:
    [box] = YunetFaceDetector(YunetDetectorConfig()).detect(frame_of(astronaut))
    assert iou(as_tuple(box), ASTRONAUT_FACE) > 0.6
    assert len(box.keypoints) == 5 and box.crop_rule == CROP_RULE
    assert all(box.x <= x <= box.x + box.w and box.y <= y <= box.y + box.h
               for x, y in box.keypoints)
    (rx, ry), (lx, ly), (nx, ny), (mrx, mry), (mlx, mly) = box.keypoints
    assert rx < nx < lx and max(ry, ly) < ny < min(mry, mly) and mrx < mlx


def test_gray_frames_work_too(astronaut: np.ndarray) -> None:
    gray = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    [box] = YunetFaceDetector(YunetDetectorConfig()).detect(frame_of(gray))
    assert iou(as_tuple(box), ASTRONAUT_FACE) > 0.6


@pytest.mark.parametrize("level", [0, 128, 255])
def test_no_face_in_a_blank_frame(level: int) -> None:
    frame = frame_of(np.full((480, 640, 3), level, np.uint8))
    assert YunetFaceDetector(YunetDetectorConfig()).detect(frame) == []


@pytest.mark.parametrize(("width", "height", "side"), [
    (640, 480, 300), (1280, 960, 960), (1280, 720, 500), (320, 240, 240), (200, 150, 150)])
def test_boxes_are_mapped_back_to_the_frame(astronaut: np.ndarray, width: int, height: int,
                                            side: int) -> None:
    """Downscaled to fit 320x240 (never upscaled), the face lands where it was placed."""
    scale = side / 512
    x0, y0 = (width - side) // 2, (height - side) // 2
    expected = (round(x0 + ASTRONAUT_FACE[0] * scale), round(y0 + ASTRONAUT_FACE[1] * scale),
                round(ASTRONAUT_FACE[2] * scale), round(ASTRONAUT_FACE[3] * scale))
    detector = YunetFaceDetector(YunetDetectorConfig())
    [box] = detector.detect(frame_of(place(astronaut, width, height, side)))
    assert iou(as_tuple(box), expected) > 0.6


def test_faces_narrower_than_min_face_px_are_dropped(astronaut: np.ndarray) -> None:
    frame = frame_of(astronaut)  # the face is ~92 px wide
    assert len(YunetFaceDetector(YunetDetectorConfig(min_face_px=80)).detect(frame)) == 1
    assert YunetFaceDetector(YunetDetectorConfig(min_face_px=100)).detect(frame) == []


def test_the_default_is_yunet() -> None:
    assert isinstance(open_detector(AutoDetectorConfig()), YunetFaceDetector)


def damage(model: Path) -> None:
    data = bytearray(model.read_bytes())
    data[1000:1010] = bytes(10)
    model.write_bytes(bytes(data))


BROKEN: dict[str, tuple[Callable[[Path], object], str]] = {
    "missing": (lambda m: m.unlink(), "YuNet model not found"),
    "corrupt": (damage, "is damaged: sha256"),
    "no sidecar": (lambda m: m.with_suffix(".json").unlink(), "sidecar .* is missing"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_model_file_falls_back_to_haar_with_one_warning(
        model_dir: Path, case: str, caplog: pytest.LogCaptureFixture) -> None:
    breaks, reason = BROKEN[case]
    breaks(model_dir)
    with caplog.at_level(logging.WARNING):
        detector = open_detector(AutoDetectorConfig(model_path=model_dir))
    assert isinstance(detector, HaarFaceDetector)
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "YuNet face detector unavailable, using the Haar cascade" in record.message
    assert re.search(reason, record.message) and "detector.model_path" in record.message


def test_the_haar_fallback_keeps_the_keys_the_user_set(model_dir: Path,
                                                     astronaut: np.ndarray) -> None:
    """A face narrower than the user's `min_face_px` stays unfound after the fallback, and a
    key the user left out keeps Haar's own default (48 px, not YuNet's 16)."""
    model_dir.unlink()
    frame = frame_of(astronaut)  # one face, ~92 px wide
    for min_face_px, faces in ((200, 0), (60, 1)):
        cfg = AutoDetectorConfig(model_path=model_dir, min_face_px=min_face_px)
        detector = open_detector(cfg, lambda _: None)
        assert isinstance(detector, HaarFaceDetector)
        assert len(detector.detect(frame)) == faces
    fallback = open_detector(AutoDetectorConfig(model_path=model_dir), lambda _: None)
    assert isinstance(fallback, HaarFaceDetector)
    assert fallback.scale_for(640) == HaarFaceDetector(HaarDetectorConfig()).scale_for(640)


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_model_file_is_an_error_for_an_explicit_yunet(model_dir: Path,
                                                               case: str) -> None:
    breaks, reason = BROKEN[case]
    breaks(model_dir)
    with pytest.raises(ModelError, match=reason):
        open_detector(YunetDetectorConfig(model_path=model_dir))


def test_an_opencv_without_facedetectoryn_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(cv2, "FaceDetectorYN")
    warnings: list[str] = []
    assert isinstance(open_detector(AutoDetectorConfig(), warnings.append), HaarFaceDetector)
    [warning] = warnings
    assert "has no cv2.FaceDetectorYN" in warning
    assert "pip install 'opencv-python-headless>=4.8,<5'" in warning
    with pytest.raises(ModelError, match=r"has no cv2\.FaceDetectorYN"):
        open_detector(YunetDetectorConfig())


def test_an_opencv_older_than_the_sidecar_says_falls_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cv2, "__version__", "4.7.0")
    warnings: list[str] = []
    assert isinstance(open_detector(AutoDetectorConfig(), warnings.append), HaarFaceDetector)
    assert "OpenCV 4.7.0 is too old for YuNet (needs >= 4.8.0)" in warnings[0]


def test_the_shipped_model_matches_its_sidecar_and_licences_ship_beside_it() -> None:
    import hashlib
    import json

    model = asset_path(MODEL_ASSET)
    meta = json.loads(model.with_suffix(".json").read_text())
    assert hashlib.sha256(model.read_bytes()).hexdigest() == meta["sha256"]
    assert model.stat().st_size == meta["bytes"] and meta["min_opencv"] == "4.8.0"
    for licence in meta["licences"]:
        assert (model.parent / licence["file"]).stat().st_size > 500
