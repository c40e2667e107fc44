"""Distil a teacher's test-time averaging into the student's single pass.

The teacher's scores, averaged over the 10 views of `crops` (the averaging the daemon can
afford only where 14 ms per face is fine), are computed once for each Training face and
blended with its one-hot label; the student learns them through all of its augmentation.
The teacher is a run's `.keras`, or a shipped int8 `.tflite` brought back into Keras.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from trainer.data import LABELS, Split
from trainer.evaluate import averaged_scores
from trainer.model import ModelShape, build_model


def load_teacher(path: Path, shape: ModelShape, faces: np.ndarray) -> keras.Model:
    """The model at `path`; a .tflite needs the `shape` it was trained with."""
    if path.suffix != ".tflite":
        return keras.models.load_model(path)
    from trainer.warm_start import load_int8_weights

    model = build_model(shape=shape)
    load_int8_weights(model, path, faces[..., None])
    return model


def soft_targets(teacher: keras.Model, train: Split, weight: float,
                 averaging: str = "crops") -> np.ndarray:
    """(n, classes) targets: `weight` x the teacher's averaged scores + the rest one-hot."""
    if not 0 < weight <= 1:
        raise ValueError(f"distillation weight {weight} must be in (0, 1]")
    scores = averaged_scores(teacher, train.images, averaging)
    onehot: np.ndarray = keras.utils.to_categorical(train.labels, len(LABELS))
    return (weight * scores + (1 - weight) * onehot).astype("float32")
