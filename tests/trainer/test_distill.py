"""Distillation targets: the teachers' crops-averaged scores blended with the targets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.models import synthetic_faces


def test_one_teacher_is_scored_by_litert_over_the_crops(tiny_model: Path,
                                                         tmp_path: Path) -> None:
    from trainer.data import Split
    from trainer.distill import blend, teacher_scores
    from trainer.scoring import TfliteModel, averaged_scores

    faces, labels = synthetic_faces(seed=2)
    scores = teacher_scores((tiny_model,), Split(faces, labels))
    crops = averaged_scores(TfliteModel(tiny_model), faces, "crops")
    np.testing.assert_allclose(scores, crops / crops.sum(1, keepdims=True), atol=1e-5)
    # the teacher is the tiny model itself: it answers like the labels
    assert (scores.argmax(1) == labels).mean() > 0.9
    onehot = np.eye(7, dtype=np.float32)[labels]
    targets = blend(scores, onehot, weight=0.25)
    np.testing.assert_allclose(targets, 0.25 * scores + 0.75 * onehot, atol=1e-6)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="weight"):
        blend(scores, onehot, weight=0.0)


def test_an_ensemble_is_the_renormalised_geometric_mean_and_is_cached(
        tiny_model: Path, tiny_bf16_keras_model: Path, tmp_path: Path) -> None:
    from trainer.data import Split
    from trainer.distill import teacher_scores

    faces, labels = synthetic_faces(seed=2)
    split = Split(faces, labels)
    first = teacher_scores((tiny_model,), split, averaging="flip")
    second = teacher_scores((tiny_bf16_keras_model,), split, averaging="flip")
    assert not np.allclose(first, second, atol=1e-3)  # two networks, two answers
    cache = tmp_path / "teacher_scores.npz"
    both = teacher_scores((tiny_model, tiny_bf16_keras_model), split, averaging="flip",
                          cache=cache)
    geometric = np.sqrt(np.clip(first, 1e-6, 1) * np.clip(second, 1e-6, 1))
    np.testing.assert_allclose(both, geometric / geometric.sum(1, keepdims=True), atol=1e-5)
    # a resumed run reads the cache instead of scoring again; other teachers refresh it
    with np.load(cache) as saved:
        key = saved["key"]
        np.testing.assert_array_equal(saved["scores"], both)
    np.savez(cache, key=key, scores=np.zeros_like(both))
    assert not teacher_scores((tiny_model, tiny_bf16_keras_model), split, averaging="flip",
                              cache=cache).any()
    assert teacher_scores((tiny_model,), split, averaging="flip", cache=cache).any()


def test_a_run_saved_with_one_teacher_path_resumes_as_a_tuple(tmp_path: Path) -> None:
    """run.json is a contract with runs begun before teachers became a list."""
    from trainer.checkpoint import CHECKPOINT, saved_run
    from trainer.config import TrainConfig

    (tmp_path / CHECKPOINT).mkdir()
    for old, new in (("t.tflite", ("t.tflite",)), (None, ()), (["a", "b"], ("a", "b"))):
        config = {**TrainConfig().__dict__, "distill_from": old,
                  "blocks": [list(b) for b in TrainConfig().blocks]}
        (tmp_path / CHECKPOINT / "run.json").write_text(
            json.dumps({"config": config, "data": "fer2013.npz"}))
        assert saved_run(tmp_path)[0].distill_from == new
