"""Golden vectors: recorded, checked, skipped when absent or recorded for another model."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from edge.classify import golden
from edge.classify.tflite import TfliteEmotionClassifier
from edge.config import ClassifierConfig
from edge.errors import ModelError


def test_recorded_vectors_pass_and_a_changed_output_fails(
        model_copy: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = ClassifierConfig(model_path=model_copy)
    classifier = TfliteEmotionClassifier(cfg)  # no golden block: loads as before
    face = np.full((*classifier.contract.input_shape[1:3], 1), 128, np.uint8)
    block = golden.record(classifier.interpreter, [("gray", classifier.input_tensor(face))],
                          classifier.contract.sha256, classifier.runtime)
    golden.check(classifier.interpreter, block, classifier.contract.sha256, model_copy, "rt")
    block["vectors"][0]["output"][0] += 2
    with pytest.raises(ModelError, match=r"2 quantization steps off.*is_xnnpack_enabled"):
        golden.check(classifier.interpreter, block, classifier.contract.sha256, model_copy,
                     "rt")
    with caplog.at_level(logging.WARNING):
        golden.check(classifier.interpreter, block, "another", model_copy, "rt")
    assert "recorded for another model file" in caplog.text
    classifier.close()


def test_xnnpack_can_be_turned_off(model_copy: Path) -> None:
    cfg = ClassifierConfig(model_path=model_copy, is_xnnpack_enabled=False)
    classifier = TfliteEmotionClassifier(cfg)
    assert classifier.runtime.endswith("(no XNNPACK)")
    classifier.close()
