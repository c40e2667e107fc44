"""Continue training from a shipped int8 model when its Keras run is gone.

The int8 file holds every weight the network needs: each conv with its batch norm folded in
(kernel x gamma/sigma, bias beta - mean x gamma/sigma), and the dense layer. Dequantized,
they go back into the Keras graph: the kernel into the conv, the folded bias into the batch
norm's beta. The batch norms then get the statistics of their inputs on real faces, with
gamma = sigma and beta = bias + mean, so they are the identity plus the bias both in
inference and in training mode (where they normalise by the batch's own statistics):
training resumes from the shipped function instead of being knocked off it at step one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType


def _dequantized(details: dict[str, Any], values: np.ndarray) -> np.ndarray:
    q = details["quantization_parameters"]
    scales, zeros = q["scales"], q["zero_points"]
    if len(scales) == 0:
        return values.astype(np.float32)
    axis = q["quantized_dimension"]
    shape = [1] * values.ndim
    shape[axis] = -1
    floats: np.ndarray = (values.astype(np.float32) - zeros.reshape(shape)) * scales.reshape(shape)
    return floats


def int8_weights(path: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(op, weights, bias) of every CONV_2D and FULLY_CONNECTED, in graph order, as floats."""
    interpreter = Interpreter(
        str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    found = []
    for op in interpreter._get_ops_details():  # LiteRT's only op listing
        if op["op_name"] not in ("CONV_2D", "FULLY_CONNECTED"):
            continue
        _, w_index, b_index = op["inputs"][:3]
        w = _dequantized(tensors[w_index], interpreter.get_tensor(w_index))
        b = _dequantized(tensors[b_index], interpreter.get_tensor(b_index))
        found.append((op["op_name"], w, b))
    return found


def load_int8_weights(model: keras.Model, path: Path, faces: np.ndarray) -> None:
    """Put the weights of the int8 model at `path` into `model` (same blocks), in place.

    `faces` (uint8, N x 48 x 48 x 1, a few thousand training faces) give each batch norm the
    statistics of its input. Raises ValueError when the two graphs do not match.
    """
    ops = int8_weights(path)
    convs = [la for la in model.layers if isinstance(la, keras.layers.Conv2D)]
    norms = [la for la in model.layers if isinstance(la, keras.layers.BatchNormalization)]
    dense = [la for la in model.layers if isinstance(la, keras.layers.Dense)]
    if [o for o, _, _ in ops] != ["CONV_2D"] * len(convs) + ["FULLY_CONNECTED"] * len(dense):
        raise ValueError(f"{path} does not have this model's layers; pass the same --blocks")
    if len(norms) != len(convs) or len(dense) != 1:
        raise ValueError("warm start expects one batch norm per conv and one dense layer")
    # The converter folds the input Rescaling into the first conv, which reads raw pixels.
    rescale = [la.scale for la in model.layers if isinstance(la, keras.layers.Rescaling)]
    for i, (conv, norm, (_, w, b)) in enumerate(zip(convs, norms, ops, strict=False)):
        kernel = np.transpose(w, (1, 2, 3, 0))  # TFLite OHWI -> Keras HWIO
        if i == 0 and rescale:
            kernel = kernel / float(rescale[0])
        if conv.kernel.shape != kernel.shape:
            raise ValueError(f"{conv.name}: {path} has {kernel.shape}, model {conv.kernel.shape}")
        conv.kernel.assign(kernel)
        ones, zeros = np.ones_like(b), np.zeros_like(b)
        norm.set_weights([ones, b, zeros, ones - norm.epsilon])  # identity + bias
    _, w, b = ops[-1]
    dense[0].set_weights([w.T, b])
    # Every conv output at once: the earlier norms are already exact in inference mode.
    probe = keras.Model(model.input, [norm.input for norm in norms])
    outputs = probe.predict(faces, batch_size=256, verbose=0)
    for norm, out, (_, _, b) in zip(norms, outputs, ops, strict=False):
        mean = out.reshape(-1, out.shape[-1]).mean(axis=0)
        var = out.reshape(-1, out.shape[-1]).var(axis=0)
        norm.set_weights([np.sqrt(var + norm.epsilon), b + mean, mean, var])
