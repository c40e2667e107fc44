"""Warm start from an int8 .tflite: the Keras graph gets back the function the file holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.models import TINY_BLOCKS, synthetic_faces


def test_a_model_warm_started_from_int8_answers_like_the_keras_it_came_from(
        tiny_keras_model: Path, tiny_model: Path) -> None:
    import keras

    from trainer.model import ModelShape, build_model
    from trainer.warm_start import load_int8_weights

    faces, _ = synthetic_faces(seed=3)
    x = faces[..., None]
    original = keras.models.load_model(tiny_keras_model).predict(x, verbose=0)
    keras.utils.set_random_seed(7)
    model = build_model(shape=ModelShape(blocks=TINY_BLOCKS))
    before = model.predict(x, verbose=0)
    load_int8_weights(model, tiny_model, x)
    after = model.predict(x, verbose=0)
    assert (before.argmax(1) == original.argmax(1)).mean() < 0.5  # a fresh model differs
    assert (after.argmax(1) == original.argmax(1)).mean() >= 0.95
    assert np.abs(after - original).max() < 0.1  # int8 rounding, not a different model
    # the batch norms hold their inputs' statistics: training mode gives the same answers
    model.get_layer("dropout").rate = 0.0  # dropout alone would change them
    trained_mode = model(x, training=True).numpy()
    assert (trained_mode.argmax(1) == after.argmax(1)).mean() >= 0.95


def test_a_tflite_of_other_blocks_is_refused(tiny_model: Path) -> None:
    from trainer.model import build_model
    from trainer.warm_start import load_int8_weights

    faces, _ = synthetic_faces()
    with pytest.raises(ValueError, match="--blocks"):
        load_int8_weights(build_model(), tiny_model, faces[..., None])
