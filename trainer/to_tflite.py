"""Keras model in, TFLite flatbuffer out: the conversion and the checks of what came out.

`convert` turns a Keras model into full-integer int8 TFLite (only builtin int8 ops, so the
LiteRT runtime needs no TensorFlow), or float32 / dynamic-range for comparison, through
`TFLiteConverter.from_keras_model` (the SavedModel route keeps augmentation layers in
training mode and fails). `op_names` refuses a flatbuffer the Pi could not run.

Whatever dtype policy the model was trained under (a bf16 run saves `mixed_bfloat16` in
each layer), what is converted is its float32 network with the same weights
(`float32_model`): TFLite has no builtin bf16 ops, and the Pi computes in int8 anyway.
"""

from __future__ import annotations

import contextlib
import time
import zipfile
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np

from trainer.data import FACE_SIZE, LABELS
from trainer.errors import ExportError
from trainer.scoring import TfliteModel

MODES = ("int8", "float32", "dynamic")
INPUT_SHAPE = (FACE_SIZE, FACE_SIZE, 1)


def load_keras_model(path: Path) -> Any:
    """Load a `.keras` model and check it takes 48x48x1 faces and gives one score per label."""
    if not path.is_file():
        raise ExportError(f"model not found: {path} (pass --model runs/<name>/model.keras)")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ExportError(f"cannot load Keras model {path}: not a .keras archive, the file is "
                          "damaged or something else (pass the model.keras a training run wrote)")
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # keras raises many types for a bad file; all mean "not a model"
        raise ExportError(f"cannot load Keras model {path}: {e} "
                          "(pass the model.keras a training run wrote)") from e
    shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else None
    if shape != INPUT_SHAPE:
        raise ExportError(f"{path}: model input is {shape}, expected one {INPUT_SHAPE} input "
                          "(48x48 grayscale faces; build it with trainer.model.build_model)")
    if tuple(model.outputs[0].shape[1:]) != (len(LABELS),):
        raise ExportError(f"{path}: model output is {tuple(model.outputs[0].shape[1:])}, "
                          f"expected ({len(LABELS)},) scores for {list(LABELS)}")
    return model


def float32_model(model: Any) -> Any:
    """The same network and weights computing in float32; a float32 model comes back as is.

    Traced under a bf16 policy the graph has bf16 Conv2D, MaxPool and Relu, which no TFLite
    builtin op takes, and conversion fails (issue 21). A mixed policy keeps the variables in
    float32, so the copy holds exactly the trained weights.
    """
    from trainer.model import precision_of

    trained = precision_of(model)
    if trained == "float32":
        return model
    import keras

    def as_float32(layer: Any) -> Any:
        return type(layer).from_config({**layer.get_config(), "dtype": "float32"})

    try:
        copy = keras.models.clone_model(model, clone_function=as_float32)
        copy.set_weights(model.get_weights())
    except Exception as e:  # keras raises many types for a layer it cannot rebuild
        raise ExportError(f"cannot rebuild the {trained} model in float32 for conversion: {e} "
                          "(build it with trainer.model.build_model)") from e
    if precision_of(copy) != "float32":  # e.g. a nested model whose layers kept their policy
        raise ExportError(f"the float32 rebuild of the {trained} model still computes in "
                          f"{precision_of(copy)}; build it with trainer.model.build_model")
    return copy


def _representative(model: Any, faces: np.ndarray) -> Callable[[], Iterator[list[np.ndarray]]]:
    dtype = model.inputs[0].dtype  # yield the Keras input's dtype or conversion stops
    def gen() -> Iterator[list[np.ndarray]]:
        for face in faces:
            yield [face.reshape(1, *INPUT_SHAPE).astype(dtype)]
    return gen


def convert(model: Any, mode: str, faces: np.ndarray) -> bytes:
    """TFLite flatbuffer for a Keras model, of any dtype policy (its float32 network is
    converted); int8 calibrates on `faces` (raw uint8, n x 48 x 48)."""
    import tensorflow as tf

    if mode not in MODES:
        raise ExportError(f"unknown mode {mode!r} (choose one of {', '.join(MODES)})")
    model = float32_model(model)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif mode == "int8":
        if len(faces) == 0:
            raise ExportError("int8 conversion needs representative faces (--rep-samples > 0)")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = _representative(model, faces)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8  # a uint8 Keras input stays raw uint8
        converter.inference_output_type = tf.int8
    try:
        with contextlib.redirect_stdout(StringIO()):  # it prints the whole SavedModel signature
            return bytes(converter.convert())
    except Exception as e:  # converter errors come from C++ with assorted types
        raise ExportError(f"TFLite conversion ({mode}) failed: {e}") from e


_FLOAT_OK = frozenset({"CAST", "QUANTIZE", "DEQUANTIZE"})


def op_names(content: bytes, mode: str = "int8") -> list[str]:
    """Operator names in a flatbuffer; Flex or custom ops, or float math in int8, are errors.

    In int8 mode only the input's CAST and QUANTIZE may produce float tensors: every
    convolution, pooling and dense op must compute in int8.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:  # without the default delegate, so the ops are the file's own
        it = Interpreter(model_content=content, experimental_op_resolver_type=(
            OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
        it.allocate_tensors()
        ops, tensors = it._get_ops_details(), it.get_tensor_details()
    except (RuntimeError, ValueError) as e:
        raise ExportError(f"LiteRT cannot load the converted model: {e}") from e
    names = sorted({op["op_name"] for op in ops})
    foreign = [n for n in names if n.startswith("Flex") or n.upper() == "CUSTOM"]
    if foreign:
        raise ExportError(f"converted model needs ops the Pi runtime lacks: {foreign}")
    dtypes = {t["index"]: np.dtype(t["dtype"]) for t in tensors}
    floating = sorted({op["op_name"] for op in ops if op["op_name"] not in _FLOAT_OK
                       and any(dtypes[i].kind == "f" for i in op["outputs"])})
    if mode == "int8" and floating:
        raise ExportError(f"int8 model still computes in float in {floating}")
    return names


def median_latency_ms(content: bytes, face: np.ndarray, runs: int = 200) -> float:
    """Median wall time of one single-face invoke on one thread, after a warm-up."""
    tfl = TfliteModel(content, num_threads=1)
    x = tfl.quantize(face.reshape(1, *INPUT_SHAPE))
    tfl.interpreter.set_tensor(tfl.input["index"], x)
    times = []
    for _ in range(runs + 10):
        t0 = time.perf_counter()
        tfl.interpreter.invoke()
        times.append(time.perf_counter() - t0)
    return float(np.median(times[10:]) * 1000)
