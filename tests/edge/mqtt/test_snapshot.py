"""The snapshot JPEG: boxes, labels and, for detectors that give them, the landmarks."""

from __future__ import annotations

import cv2
import numpy as np

from edge.mqtt.snapshot import KEYPOINT, encode_snapshot
from edge.ports import Emotion, FaceBox, Frame, Result

POINTS = ((120, 110), (170, 110), (145, 140), (125, 170), (165, 170))


def snapshot_of(box: FaceBox) -> np.ndarray:
    frame = Frame(np.full((240, 320, 3), 90, np.uint8), "test", 0.0)
    result = Result(id="r", request_id=None, device="dev", trigger="cli", timestamp="t",
                    faces=((box, Emotion("happy", 0.9, {"happy": 0.9})),), latency_ms={},
                    model="m")
    image = cv2.imdecode(np.frombuffer(encode_snapshot(result, frame), np.uint8),
                         cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (240, 320, 3)
    return image.astype(int)


def is_keypoint_colour(pixel: np.ndarray) -> bool:
    return bool(np.abs(pixel - np.array(KEYPOINT)).max() < 60)  # JPEG blurs colour on small dots


def test_landmarks_are_drawn_inside_the_box() -> None:
    image = snapshot_of(FaceBox(100, 80, 90, 120, keypoints=POINTS))
    assert all(is_keypoint_colour(image[y, x]) for x, y in POINTS)
    assert image[80, 140, 1] > 150  # the box's top edge is green


def test_a_box_without_landmarks_draws_none() -> None:
    image = snapshot_of(FaceBox(100, 80, 90, 120))
    assert not any(is_keypoint_colour(image[y, x]) for x, y in POINTS)
