"""Golden vectors: recorded, checked, skipped when absent or recorded for another model."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from edge.classify import golden
from edge.classify.config import ClassifierConfig
from edge.classify.tflite import TfliteEmotionClassifier
from edge.errors import ModelError


def test_recorded_vectors_pass_and_a_changed_output_fails(
        model_copy: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = ClassifierConfig(model_path=model_copy)
    classifier = TfliteEmotionClassifier(cfg)
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


def test_each_vector_allows_twice_the_drift_between_two_kernel_sets(model_copy: Path) -> None:
    """Recorded against a second runtime, a vector's tolerance is twice their drift (at
    least one step), and the check holds each vector to its own."""
    xnnpack = TfliteEmotionClassifier(ClassifierConfig(model_path=model_copy))
    builtin = TfliteEmotionClassifier(ClassifierConfig(model_path=model_copy,
                                                       is_xnnpack_enabled=False))
    rng = np.random.default_rng(0)
    shape = (*xnnpack.contract.input_shape[1:3], 1)
    faces = [(f"noise-{i}", xnnpack.input_tensor(rng.integers(0, 256, shape, np.uint8)))
             for i in range(4)]
    block = golden.record(xnnpack.interpreter, faces, xnnpack.contract.sha256, "rt",
                          reference=builtin.interpreter)
    for (_, tensor), vector in zip(faces, block["vectors"], strict=True):
        drift = np.abs(golden.invoke(builtin.interpreter, tensor).astype(int)
                       - np.asarray(vector["output"])).max()
        assert vector["max_steps"] == max(golden.MAX_STEPS, 2 * int(drift))
    golden.check(builtin.interpreter, block, xnnpack.contract.sha256, model_copy, "rt")
    widest = max(block["vectors"], key=lambda v: v["max_steps"])
    widest["output"][0] += widest["max_steps"] + 1
    with pytest.raises(ModelError, match=rf"{widest['max_steps'] + 1} quantization steps off"
                                         rf", at most {widest['max_steps']} allowed"):
        golden.check(xnnpack.interpreter, block, xnnpack.contract.sha256, model_copy, "rt")
    xnnpack.close()
    builtin.close()
