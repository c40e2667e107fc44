"""Pipeline with real parts: images on disk -> Haar -> LiteRT tiny model -> Result."""

from __future__ import annotations

import threading
from datetime import datetime
from itertools import count
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.classify.config import ClassifierConfig
from edge.classify.tflite import TfliteEmotionClassifier
from edge.detect.config import HaarDetectorConfig
from edge.detect.haar import HaarFaceDetector
from edge.errors import SourceError
from edge.pipeline import Pipeline, rfc3339
from edge.ports import Frame, TriggerEvent
from edge.sources.images import ImageFolderSource
from tests.edge.conftest import ASTRONAUT_FACE, iou


@pytest.fixture
def parts(tiny_model: Path) -> tuple[HaarFaceDetector, TfliteEmotionClassifier]:
    return (HaarFaceDetector(HaarDetectorConfig()),
            TfliteEmotionClassifier(ClassifierConfig(model_path=tiny_model)))


@pytest.fixture
def photos(tmp_path: Path, astronaut_path: Path) -> Path:
    """a.jpg: the astronaut; b.png: a blank gray frame."""
    (tmp_path / "a.jpg").write_bytes(astronaut_path.read_bytes())
    cv2.imwrite(str(tmp_path / "b.png"), np.full((480, 640, 3), 128, np.uint8))
    return tmp_path


def test_a_capture_becomes_a_result(parts: tuple, photos: Path) -> None:
    threads = threading.active_count()
    pipeline = Pipeline(ImageFolderSource(photos), *parts, device_id="pi-1")
    result, frame = pipeline.handle(TriggerEvent("mqtt", request_id="req-7"))
    assert frame.source.endswith("a.jpg") and frame.image.shape == (512, 512, 3)
    assert (result.request_id, result.trigger, result.device) == ("req-7", "mqtt", "pi-1")
    [(box, emotion)] = result.faces
    assert iou((box.x, box.y, box.w, box.h), ASTRONAUT_FACE) > 0.7
    assert result.dominant == emotion and result.model == parts[1].model_name
    assert set(result.latency_ms) == {"capture", "detect", "classify", "total"}
    assert result.latency_ms["total"] >= result.latency_ms["detect"] > 0
    assert threading.active_count() == threads


def test_no_face_gives_null_emotion(parts: tuple, photos: Path) -> None:
    pipeline = Pipeline(ImageFolderSource(photos), *parts, device_id="pi-1")
    pipeline.handle(TriggerEvent("button"))
    result, _ = pipeline.handle(TriggerEvent("button"))
    doc = result.to_json_dict()
    assert (doc["faces"], doc["emotion"], doc["confidence"]) == ([], None, None)


def test_ids_are_unique_and_timestamps_rfc3339_utc(parts: tuple, photos: Path) -> None:
    pipeline = Pipeline(ImageFolderSource(photos, is_looping=True), *parts, device_id="d")
    results = [pipeline.handle(TriggerEvent("interval"))[0] for _ in range(3)]
    assert len({r.id for r in results}) == 3 and all(len(r.id) == 32 for r in results)
    for r in results:
        assert r.timestamp.endswith("Z")
        assert datetime.fromisoformat(r.timestamp).utcoffset().total_seconds() == 0


def test_stage_timings_come_from_the_clock(parts: tuple, photos: Path) -> None:
    ticks = count()
    pipeline = Pipeline(ImageFolderSource(photos), *parts, device_id="d",
                        clock=lambda: next(ticks) / 1000.0)  # each reading 1 ms later
    result, _ = pipeline.handle(TriggerEvent("cli"))
    assert dict(result.latency_ms) == {"capture": 1.0, "detect": 1.0, "classify": 1.0,
                                       "total": 4.0}


def test_handle_frame_adds_the_given_capture_time(parts: tuple, frame_640: Frame) -> None:
    ticks = count()
    pipeline = Pipeline(ImageFolderSource(Path(__file__)), *parts, device_id="d",
                        clock=lambda: next(ticks) / 1000.0)
    result = pipeline.handle_frame(frame_640, TriggerEvent("cli"), capture_ms=5.0)
    assert result.latency_ms["capture"] == 5.0 and result.latency_ms["total"] == 8.0
    assert len(result.faces) == 1


def test_a_camera_error_reaches_the_caller(parts: tuple, tmp_path: Path) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"no")
    pipeline = Pipeline(ImageFolderSource(tmp_path), *parts, device_id="d")
    with pytest.raises(SourceError, match=r"broken\.jpg"):
        pipeline.handle(TriggerEvent("button"))


def test_rfc3339() -> None:
    assert rfc3339(0.5) == "1970-01-01T00:00:00.500Z"


def test_the_classifier_gets_the_averaging_the_event_names_and_no_mode() -> None:
    """The pipeline knows no modes: it hands on what the event names (continuous mode's
    frames name theirs), and None for a trigger that names none."""
    from tests.fakes import CountingSource, FixedClassifier, FixedDetector

    classifier = FixedClassifier()
    pipeline = Pipeline(CountingSource(), FixedDetector(), classifier, "dev")
    pipeline.handle(TriggerEvent("button"))
    pipeline.handle(TriggerEvent("continuous", averaging="none"))
    assert classifier.asked == [None, "none"]
