"""Scores of a model for raw faces, through the one preprocessing path.

`predict_scores` feeds the same raw uint8 faces the model was trained on to a Keras model or
to a converted `.tflite` (`TfliteModel`, run by LiteRT as the edge runs it);
`averaged_scores` averages them over the views the edge averages. Every figure of the
trainer, the converter and the report comes from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class TfliteModel:
    """A `.tflite` model run by the LiteRT interpreter, scored like a Keras model.

    `scores(x)` takes the model's input exactly as Keras gets it (raw uint8 faces with a
    channel axis), quantizes it with the interpreter's own input parameters (a scale of 0
    means "feed raw values"), and returns dequantized float scores. Batched when the
    interpreter accepts a resized input, one face at a time otherwise. Single-threaded
    callers only; nothing to close.
    """

    def __init__(self, model: Path | bytes, num_threads: int = 1) -> None:
        from ai_edge_litert.interpreter import Interpreter

        if isinstance(model, bytes):
            self.interpreter = Interpreter(model_content=model, num_threads=num_threads)
        else:
            self.interpreter = Interpreter(model_path=str(model), num_threads=num_threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self._batch = int(self.input["shape"][0])
        self.is_resizable = True

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Model input as the interpreter wants it: the edge classifier's own quantize."""
        from edge.classify.tflite import quantize

        scale, zero = self.input["quantization"]
        return quantize(x, np.dtype(self.input["dtype"]), scale, zero)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        """Float scores from the raw output tensor, as the edge classifier reads them."""
        from edge.classify.tflite import dequantize

        return dequantize(q, *self.output["quantization"])

    def _run(self, x: np.ndarray) -> np.ndarray:
        if len(x) != self._batch:
            self.interpreter.resize_tensor_input(self.input["index"], [len(x), *x.shape[1:]])
            self.interpreter.allocate_tensors()
            self._batch = len(x)
        self.interpreter.set_tensor(self.input["index"], self.quantize(x))
        self.interpreter.invoke()
        return self.dequantize(self.interpreter.get_tensor(self.output["index"]))

    def scores(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Float scores (n, classes) for a model input batch x (n, 48, 48, 1)."""
        if self.is_resizable:
            try:
                return np.concatenate([self._run(x[i:i + batch_size])
                                       for i in range(0, len(x), batch_size)])
            except (RuntimeError, ValueError):
                self.is_resizable = False
                self._run(x[:1])  # back to a batch of one
        return np.concatenate([self._run(x[i:i + 1]) for i in range(len(x))])


def predict_scores(model: Any, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Softmax scores for raw uint8 (n, 48, 48) faces; Keras models and `TfliteModel`."""
    x = images[..., None]
    if isinstance(model, TfliteModel):
        return model.scores(x, batch_size=batch_size)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def averaged_scores(model: Any, images: np.ndarray, averaging: str) -> np.ndarray:
    """Mean scores over the views the edge classifier averages (edge.classify.averaging)."""
    from edge.classify.averaging import views

    mean: np.ndarray = np.mean([predict_scores(model, v) for v in views(images, averaging)], axis=0)
    return mean
