"""Distillation targets: the teacher's crops-averaged scores blended with the labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.models import TINY_BLOCKS, synthetic_faces


def test_targets_blend_the_teachers_averaged_scores_with_the_labels(tiny_model: Path) -> None:
    from trainer.data import Split
    from trainer.distill import load_teacher, soft_targets
    from trainer.evaluate import averaged_scores
    from trainer.model import ModelShape

    faces, labels = synthetic_faces(seed=2)
    teacher = load_teacher(tiny_model, ModelShape(blocks=TINY_BLOCKS), faces)
    targets = soft_targets(teacher, Split(faces, labels), weight=0.25)
    crops = averaged_scores(teacher, faces, "crops")
    assert targets.shape == (len(labels), 7)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-5)
    onehot = np.eye(7)[labels]
    np.testing.assert_allclose(targets, 0.25 * crops + 0.75 * onehot, atol=1e-6)
    # the teacher is the tiny model itself: it answers like the labels
    assert (crops.argmax(1) == labels).mean() > 0.9
    with pytest.raises(ValueError, match="weight"):
        soft_targets(teacher, Split(faces, labels), weight=0.0)
