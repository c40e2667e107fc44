"""The crop rule's geometry: how a detector's box becomes the classifier's square crop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.classify.config import ClassifierConfig
from edge.classify.tflite import TfliteEmotionClassifier
from edge.config_base import StrictConfig
from edge.continuous.config import ContinuousConfig
from edge.ports import CropRule, FaceBox


def test_no_rule_means_the_box_is_the_crop() -> None:
    box = FaceBox(10, 20, 30, 40)
    assert box.crop_box() is box


@pytest.mark.parametrize(("rule", "expected"), [
    (CropRule(1.0, 0.0), (100, 110, 80)),  # same centre (140, 150), side = width
    (CropRule(1.5, 0.0), (80, 90, 120)),
    (CropRule(1.0, 0.1), (100, 120, 80)),  # centre 0.1 x 100 px lower
    (CropRule(1.25, -0.05), (90, 95, 100)),
])
def test_the_crop_is_a_square_about_the_shifted_centre(rule: CropRule,
                                                       expected: tuple[int, int, int]) -> None:
    box = FaceBox(100, 100, 80, 100, crop_rule=rule)
    crop = box.crop_box()
    assert (crop.x, crop.y, crop.w) == expected and crop.h == crop.w
    assert crop.crop_rule is None and crop.keypoints == ()


def test_a_crop_may_reach_past_the_frame_edge() -> None:
    crop = FaceBox(0, 0, 40, 50, crop_rule=CropRule(1.5, 0.0)).crop_box()
    assert (crop.x, crop.y, crop.w, crop.h) == (-10, -5, 60, 60)


def test_the_classifier_sees_the_crop_not_the_box(tiny_model: Path) -> None:
    """A rule changes what is classified; the result is as if the crop were the box."""
    classifier = TfliteEmotionClassifier(ClassifierConfig(model_path=tiny_model))
    image = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    ruled = FaceBox(100, 60, 60, 80, crop_rule=CropRule(1.3, 0.1))
    square = ruled.crop_box()
    assert np.array_equal(classifier.preprocess(image, ruled),
                          classifier.preprocess(image, square))
    assert not np.array_equal(classifier.preprocess(image, ruled),
                              classifier.preprocess(image, FaceBox(100, 60, 60, 80)))


@pytest.mark.parametrize("config", [ClassifierConfig, ContinuousConfig])
def test_the_configs_averagings_are_the_model_contracts(config: type[StrictConfig]) -> None:
    """The config spells the averagings out to stay free of numpy (the contract's module
    imports it); this keeps the two spellings one set."""
    from typing import get_args

    from edge.model_contract import Averaging

    spelled = get_args(config.model_fields["averaging"].annotation)
    assert {get_args(a) for a in spelled if a is not type(None)} == {get_args(Averaging)}
