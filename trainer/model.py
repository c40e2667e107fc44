"""The 5-block CNN: raw uint8 48x48 faces in, 7 softmax scores out.

Scaling sits inside the model (`Rescaling`), so the edge feeds pixels and nothing else.
Augmentation does not: it lives in the tf.data pipeline (train.py), which keeps the
inference graph convertible to TFLite.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

# (channels, convs) per block; a 2x2 max-pool follows each of the first four blocks.
# Narrow, single-conv blocks at 48/24 px (memory-bound on a CPU: 32 channels at 48 px cut
# training speed 2.5x), the width at 12/6/3 px: 46.1 M MACs, 1.3 M parameters, ~680 faces/s
# in training here. The 21.6 M-MAC v0.1 (16, 32, 64x2, 128x2, 256) scored lower
# (models/README.md, "What was tried").
DEFAULT_BLOCKS: tuple[tuple[int, int], ...] = ((16, 1), (48, 1), (96, 2), (192, 2), (384, 1))


@dataclass(frozen=True)
class ModelShape:
    blocks: tuple[tuple[int, int], ...] = DEFAULT_BLOCKS
    dropout: float = 0.4
    weight_decay: float = 0.0  # AdamW decays weights; keep L2 off unless asked
    # Depthwise-separable convolutions after the first block (the first sees one channel):
    # the public small FER+ models' shape, ~8x fewer MACs per conv at these widths
    is_separable: bool = False


def build_model(
    input_shape: tuple[int, int, int] = (48, 48, 1),
    n_classes: int = 7,
    shape: ModelShape = ModelShape(),
) -> keras.Model:
    """A pure builder: no data, no compile, no side effects."""
    inputs = keras.Input(shape=input_shape, dtype="uint8", name="face")
    x = layers.Rescaling(1.0 / 255.0, name="scale")(inputs)
    for b, (channels, convs) in enumerate(shape.blocks, start=1):
        conv = layers.SeparableConv2D if shape.is_separable and b > 1 else layers.Conv2D
        for c in range(1, convs + 1):
            x = conv(channels, 3, padding="same", use_bias=False, name=f"block{b}_conv{c}")(x)
            x = layers.BatchNormalization(name=f"block{b}_bn{c}")(x)
            x = layers.ReLU(name=f"block{b}_relu{c}")(x)
        if b < len(shape.blocks):
            x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(shape.dropout, name="dropout")(x)
    # float32 scores under any precision policy: bf16 softmax loses the small classes
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="scores")(x)
    return keras.Model(inputs, outputs, name="emotion_cnn")


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates per face for conv and dense layers (BN folds away on export)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.SeparableConv2D):  # a depthwise 3x3, then a 1x1
            _, h, w, c_out = layer.output.shape
            c_in = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += h * w * c_in * kh * kw + h * w * c_in * c_out
        elif isinstance(layer, layers.DepthwiseConv2D):
            _, h, w, c = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * c * kh * kw
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            c_in = layer.input.shape[-1]
            kh, kw = layer.kernel_size
            total += h * w * c_out * c_in * kh * kw // layer.groups
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)


def precision_of(model: keras.Model) -> str:
    """The dtype policy the model was built (and trained) under, as `.keras` saves it per
    layer: "float32", "mixed_bfloat16", ... Layers pinned to float32 (the scores) do not
    count; a model mixing several other policies is named by all of them, "+"-joined."""
    names = sorted({layer.dtype_policy.name for layer in model.layers} - {"float32"})
    return "+".join(names) or "float32"
