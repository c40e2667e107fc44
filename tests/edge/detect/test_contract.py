"""One contract for every detector kind `Settings.detector` accepts, as gpiozero's
test_real_pins.py runs one suite over every pin factory: registering a kind is enough to
be covered here. A kind whose defaults cannot open gets its settings in SETTINGS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import numpy as np
import pytest

from edge.config import Settings
from edge.detect import open_detector
from edge.ports import FaceBox, FaceDetector, Frame
from tests.edge.conftest import ASTRONAUT_FACE, frame_of

SETTINGS: dict[str, dict[str, Any]] = {}  # kind -> [detector] keys it needs beyond its kind
KINDS = [variant.model_fields["kind"].default
         for variant in get_args(Settings.model_fields["detector"].annotation)]


@pytest.fixture(params=KINDS)
def detector(request: pytest.FixtureRequest) -> Iterator[FaceDetector]:
    table = {"kind": request.param, **SETTINGS.get(request.param, {})}
    cfg = Settings.model_validate({"device_id": "pi", "detector": table}).detector
    opened = open_detector(cfg)
    yield opened
    opened.close()


def face_centre_in_frame_640() -> tuple[float, float]:
    """The astronaut's face centre in `frame_640` (the photo scaled 480/512, 80 px right)."""
    x, y, w, h = ASTRONAUT_FACE
    scale = 480 / 512
    return 80 + (x + w / 2) * scale, (y + h / 2) * scale


def inside(box: FaceBox, frame: Frame) -> bool:
    height, width = frame.image.shape[:2]
    return (box.w > 0 and box.h > 0 and 0 <= box.x <= width - box.w
            and 0 <= box.y <= height - box.h)


def test_a_face_is_found_inside_the_frame(detector: FaceDetector, frame_640: Frame) -> None:
    before = frame_640.image.copy()
    boxes = detector.detect(frame_640)
    assert boxes and all(isinstance(b, FaceBox) and inside(b, frame_640) for b in boxes)
    cx, cy = face_centre_in_frame_640()
    assert any(b.x <= cx <= b.x + b.w and b.y <= cy <= b.y + b.h for b in boxes)
    assert np.array_equal(frame_640.image, before)  # the frame is read, never written
    assert detector.detect(frame_640) == boxes  # the same frame, the same answer


@pytest.mark.parametrize("shape", [(48, 64, 3), (1080, 1920, 3)])
def test_any_frame_size_gives_boxes_inside_it(detector: FaceDetector,
                                              shape: tuple[int, int, int]) -> None:
    frame = frame_of(np.full(shape, 128, np.uint8))
    assert all(inside(b, frame) for b in detector.detect(frame))


def test_close_twice_is_harmless(detector: FaceDetector) -> None:
    detector.close()
    detector.close()
