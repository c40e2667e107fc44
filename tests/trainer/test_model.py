"""trainer.model: the 5-block edge CNN, its MAC count, and a clean inference graph."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from trainer.model import ModelShape, build_model, count_macs

MAX_MACS = 60_000_000


@pytest.fixture(scope="module")
def default_model() -> keras.Model:
    return build_model()


def _all_layers(model: keras.Model) -> list[layers.Layer]:
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found += _all_layers(layer)
    return found


def test_default_model_has_five_conv_blocks(default_model: keras.Model) -> None:
    convs = [x.name for x in default_model.layers if isinstance(x, layers.Conv2D)]
    assert {name.split("_")[0] for name in convs} == {f"block{b}" for b in range(1, 6)}


def test_input_is_raw_uint8_face_and_scaling_is_inside(default_model: keras.Model) -> None:
    (face,) = default_model.inputs
    assert tuple(face.shape) == (None, 48, 48, 1) and face.dtype == "uint8"
    assert tuple(default_model.outputs[0].shape) == (None, 7)
    scale = [x for x in default_model.layers if isinstance(x, layers.Rescaling)]
    assert len(scale) == 1 and scale[0].scale == pytest.approx(1 / 255)


def test_default_model_fits_the_edge_budget(default_model: keras.Model) -> None:
    macs = count_macs(default_model)
    assert 5_000_000 < macs <= MAX_MACS
    assert default_model.count_params() < 2_000_000


def test_count_macs_matches_a_hand_count() -> None:
    model = build_model((16, 16, 1), 3, ModelShape(blocks=((2, 1), (2, 1), (4, 1), (4, 1),
                                                           (4, 1))))
    by_hand = (16 * 16 * 2 * 1 * 9      # block 1 at 16x16, 1 -> 2 channels, 3x3
               + 8 * 8 * 2 * 2 * 9      # block 2 at 8x8
               + 4 * 4 * 4 * 2 * 9      # block 3 at 4x4
               + 2 * 2 * 4 * 4 * 9      # block 4 at 2x2
               + 1 * 1 * 4 * 4 * 9      # block 5 at 1x1 (no pool after the last block)
               + 4 * 3)                 # dense: 4 pooled features -> 3 classes
    assert count_macs(model) == by_hand == 8_796


def test_count_macs_counts_depthwise_and_pointwise_convs() -> None:
    inputs = keras.Input((6, 6, 3))
    x = layers.DepthwiseConv2D(3, padding="same")(inputs)
    x = layers.Conv2D(5, 1)(x)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(2)(x))
    assert count_macs(model) == 6 * 6 * 3 * 9 + 6 * 6 * 5 * 3 + 5 * 2


def test_no_augmentation_in_the_inference_graph(default_model: keras.Model) -> None:
    names = [type(x).__name__ for x in _all_layers(default_model)]
    assert not [n for n in names if n.startswith("Random")], names
    faces = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1), dtype=np.uint8)
    first = default_model.predict(faces, verbose=0)
    np.testing.assert_array_equal(first, default_model.predict(faces, verbose=0))
    np.testing.assert_allclose(first.sum(axis=1), 1.0, rtol=1e-5)


def test_separable_blocks_count_a_depthwise_and_a_pointwise_conv() -> None:
    model = build_model((16, 16, 1), 3, ModelShape(blocks=((2, 1), (2, 1), (4, 1), (4, 1),
                                                           (4, 1)), is_separable=True))
    kinds = {x.name: type(x).__name__ for x in model.layers if "conv" in x.name}
    assert kinds["block1_conv1"] == "Conv2D"  # one input channel: nothing to separate
    assert {kinds[f"block{b}_conv1"] for b in range(2, 6)} == {"SeparableConv2D"}
    by_hand = (16 * 16 * 2 * 1 * 9                     # block 1, a full 3x3
               + 8 * 8 * 2 * 9 + 8 * 8 * 2 * 2         # block 2: depthwise 3x3, then 1x1
               + 4 * 4 * 2 * 9 + 4 * 4 * 2 * 4
               + 2 * 2 * 4 * 9 + 2 * 2 * 4 * 4
               + 1 * 1 * 4 * 9 + 1 * 1 * 4 * 4
               + 4 * 3)
    assert count_macs(model) == by_hand


def test_separable_int8_conversion_keeps_builtin_int8_ops() -> None:
    from trainer.to_tflite import convert, op_names

    model = build_model(shape=ModelShape(blocks=((4, 1), (8, 1), (8, 1), (8, 1), (8, 1)),
                                         is_separable=True))
    faces = np.random.default_rng(0).integers(0, 256, (16, 48, 48, 1), dtype=np.uint8)
    ops = op_names(convert(model, "int8", faces))
    assert "DEPTHWISE_CONV_2D" in ops and "CONV_2D" in ops
