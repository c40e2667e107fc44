"""HaarFaceDetector on the real astronaut photo, blank frames, and broken cascade files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.detect.config import HaarDetectorConfig
from edge.detect.haar import HaarFaceDetector
from edge.detect.whole_frame import WholeFrameDetector
from edge.errors import ModelError
from edge.ports import Frame
from tests.edge.conftest import ASTRONAUT_FACE, frame_of, iou, place

FULL_RES = HaarDetectorConfig(detect_width_px=10_000)  # never downscale: the reference


def box_tuple(frame: Frame, detector: HaarFaceDetector) -> list[tuple[int, int, int, int]]:
    return [(b.x, b.y, b.w, b.h) for b in detector.detect(frame)]


def test_finds_the_astronauts_face(astronaut: np.ndarray) -> None:
    [box] = box_tuple(frame_of(astronaut), HaarFaceDetector(HaarDetectorConfig()))
    assert iou(box, ASTRONAUT_FACE) > 0.7


def test_gray_frames_work_too(astronaut: np.ndarray) -> None:
    gray = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    [box] = box_tuple(frame_of(gray), HaarFaceDetector(HaarDetectorConfig()))
    assert iou(box, ASTRONAUT_FACE) > 0.7


@pytest.mark.parametrize("level", [0, 128, 255])
def test_no_face_in_a_blank_frame(level: int) -> None:
    frame = frame_of(np.full((480, 640, 3), level, np.uint8))
    assert HaarFaceDetector(HaarDetectorConfig()).detect(frame) == []


@pytest.mark.parametrize(("width", "height", "side"), [
    (640, 480, 300), (640, 480, 480), (640, 480, 400), (1280, 960, 960), (320, 240, 240)])
def test_downscaled_detection_keeps_the_face_found_at_full_resolution(
        astronaut: np.ndarray, width: int, height: int, side: int) -> None:
    """Face sides from ~47 to ~186 px: both paths find it, at the same place."""
    frame = frame_of(place(astronaut, width, height, side))
    full = box_tuple(frame, HaarFaceDetector(FULL_RES))
    fast = box_tuple(frame, HaarFaceDetector(HaarDetectorConfig()))
    face = full[0]  # the largest; full resolution may add a small false positive
    assert face[2] >= 0.15 * side
    assert any(iou(face, box) > 0.6 for box in fast)


def test_downscale_never_hides_faces_of_min_face_px() -> None:
    detector = HaarFaceDetector(HaarDetectorConfig(detect_width_px=80, min_face_px=48))
    assert detector.scale_for(640) == pytest.approx(20 / 48)  # 48 px -> alt2's 20 px window
    assert HaarFaceDetector(HaarDetectorConfig()).scale_for(1280) == pytest.approx(20 / 48)
    wide = HaarFaceDetector(HaarDetectorConfig(detect_width_px=320, min_face_px=96))
    assert wide.scale_for(1280) == 0.25
    assert HaarFaceDetector(HaarDetectorConfig()).scale_for(200) == 1.0


def test_every_face_is_returned_largest_first(astronaut: np.ndarray) -> None:
    canvas = np.full((480, 960, 3), 128, np.uint8)
    canvas[:480, :480] = cv2.resize(astronaut, (480, 480))
    canvas[120:420, 560:860] = cv2.resize(astronaut, (300, 300))
    boxes = HaarFaceDetector(HaarDetectorConfig()).detect(frame_of(canvas))
    assert len(boxes) == 2 and boxes[0].area > boxes[1].area
    assert boxes[1].x > 480 and all(b.x + b.w <= 960 and b.y + b.h <= 480 for b in boxes)


def test_missing_cascade_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"not found: .*absent\.xml; set detector.cascade_path"):
        HaarFaceDetector(HaarDetectorConfig(cascade_path=tmp_path / "absent.xml"))


@pytest.mark.parametrize("content", ["", "garbage", "<?xml version='1.0'?><opencv_storage/>"])
def test_empty_or_broken_cascade_fails_at_start_up(tmp_path: Path, content: str) -> None:
    path = tmp_path / "cascade.xml"
    path.write_text(content)
    with pytest.raises(ModelError, match=r"set detector\.cascade_path"):
        HaarFaceDetector(HaarDetectorConfig(cascade_path=path))


def test_whole_frame_detector_returns_the_frame() -> None:
    [box] = WholeFrameDetector().detect(frame_of(np.zeros((30, 40), np.uint8)))
    assert (box.x, box.y, box.w, box.h) == (0, 0, 40, 30)
