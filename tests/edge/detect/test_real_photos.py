"""The default detector on real annotated photos (faces-dev, kept out of the repository):
the issue's recall and false-detection targets, as a regression check (no timing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import detectors as bench  # the same frames and matching as the benchmark
from edge.config import Settings
from edge.detect import open_detector
from edge.detect.yunet import YunetFaceDetector
from edge.ports import Frame


@pytest.fixture(scope="module")
def photos() -> Path:
    path = bench.default_photos()
    if not (path / "boxes.json").is_file():
        pytest.skip(f"faces-dev photos not found at {path} (set EMOEDGE_FACES_DEV); they are "
                    "kept out of the repository")
    return path


def test_the_default_detector_meets_the_targets_on_real_photos(photos: Path) -> None:
    detector = open_detector(Settings(device_id="t").detector)
    assert isinstance(detector, YunetFaceDetector)
    found_big = n_big = false = false_dogs = 0
    frames = bench.load(photos)
    for name, image, truth in frames:
        boxes = [(b.x, b.y, b.w, b.h) for b in detector.detect(Frame(image, name, 0.0))]
        big = [t for t in truth if t[2] >= bench.BIG_PX]
        n_big += len(big)
        found_big += sum(any(bench.iou(t, b) >= bench.IOU_FOUND for b in boxes) for t in big)
        wrong = sum(all(bench.iou(b, t) < bench.IOU_FOUND for t in truth) for b in boxes)
        false_dogs += wrong if name == bench.NO_FACE else 0
        false += 0 if name == bench.NO_FACE else wrong
    photos_with_faces = sum(name != bench.NO_FACE for name, _, _ in frames)
    assert found_big / n_big >= 0.95
    assert false / photos_with_faces <= 0.25 and false_dogs == 0
