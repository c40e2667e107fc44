"""Score a model on the test splits through the one preprocessing path, write the report.

Every figure here comes from `predict_scores`, which feeds the same raw uint8 faces the
model was trained on, to a Keras model or to a converted `.tflite` (`TfliteModel`); the
report test checks it against `model.evaluate`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from trainer.data import LABELS, FerData, Split, clean_mask


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


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    n = len(LABELS)
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (y_true.astype(int), y_pred.astype(int)), 1)
    per_class = {}
    for i, name in enumerate(LABELS):
        tp, predicted, actual = cm[i, i], cm[:, i].sum(), cm[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": float(precision), "recall": float(recall),
                           "f1": float(f1), "support": int(actual)}
    return {"accuracy": float(np.trace(cm) / max(1, cm.sum())), "n": int(cm.sum()),
            "macro_f1": float(np.mean([c["f1"] for c in per_class.values()])),
            "per_class": per_class, "confusion_matrix": cm.tolist()}


def score_split(scores: np.ndarray, split: Split, clean: np.ndarray) -> dict[str, Any]:
    pred = scores.argmax(axis=1)
    result = classification_metrics(split.labels, pred)
    result["clean"] = {"accuracy": float((pred[clean] == split.labels[clean]).mean()),
                       "n": int(clean.sum())}
    return result


def evaluate(model: Any, data: FerData) -> dict[str, Any]:
    """Metrics on PublicTest and PrivateTest, each also on its part with no copy in Training."""
    report: dict[str, Any] = {"labels": list(LABELS)}
    for name in ("PublicTest", "PrivateTest"):
        split = data.split(name)
        scores = predict_scores(model, split.images)
        flipped = predict_scores(model, split.images[:, :, ::-1])
        report[name] = score_split(scores, split, clean_mask(split, data.train))
        report[name]["flip_tta_accuracy"] = float(
            ((scores + flipped).argmax(1) == split.labels).mean())
    return report


def write_report(model: Any, data: FerData, train_split: Split, run_dir: Path) -> dict[str, Any]:
    """metrics.json plus the plots (plots.py) in run_dir; returns the metrics, with the
    dtype policy the Keras model was trained under (the figures are computed under it)."""
    from trainer.model import precision_of

    run_dir.mkdir(parents=True, exist_ok=True)
    report = {**evaluate(model, data), "trained_precision": precision_of(model)}
    if data.public.votes is not None:
        from trainer.crowd import crowd_figures

        report["ferplus"] = crowd_figures(model, data)
    (run_dir / "metrics.json").write_text(json.dumps(report, indent=2))
    try:
        from trainer.plots import write_plots
    except ImportError:  # plots module not there yet: metrics alone still make a report
        return report
    write_plots(report, train_split, run_dir)
    return report


def _accuracy(pred: np.ndarray, labels: np.ndarray) -> float:
    return round(float((pred == labels).mean()), 4) if len(labels) else 0.0


def averaged_scores(model: Any, images: np.ndarray, averaging: str) -> np.ndarray:
    """Mean scores over the views the edge classifier averages (edge.classify.averaging)."""
    from edge.classify.averaging import views

    mean: np.ndarray = np.mean([predict_scores(model, v) for v in views(images, averaging)], axis=0)
    return mean


def _side(model: Any, split: Split, clean: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    from edge.model_contract import AVERAGINGS

    scores = {a: averaged_scores(model, split.images, a) for a in AVERAGINGS}
    pred = scores["none"].argmax(1)
    averaged = {a: _accuracy(s.argmax(1), split.labels) for a, s in scores.items()}
    return pred, {"all": _accuracy(pred, split.labels),
                  "clean": _accuracy(pred[clean], split.labels[clean]),
                  "flip": averaged["flip"], "averaged": averaged}


def compare(keras_model: Any, tflite_model: TfliteModel, data: FerData,
            limit: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Keras vs converted accuracy per test split (all, clean part, flip-averaged), agreement.

    Both models see the same faces through `predict_scores`; `limit` scores a random subset
    of each split for quick runs. Accuracies are fractions rounded to 4 places.
    """
    from trainer.data import limit_split

    result: dict[str, Any] = {}
    for name in ("PublicTest", "PrivateTest"):
        split = limit_split(data.split(name), limit, seed)
        clean = clean_mask(split, data.train)
        k_pred, k = _side(keras_model, split, clean)
        t_pred, t = _side(tflite_model, split, clean)
        result[name] = {"n": len(split), "keras": k["all"], "tflite": t["all"],
                        "agreement": _accuracy(k_pred, t_pred),
                        "clean": {"n": int(clean.sum()), "keras": k["clean"],
                                  "tflite": t["clean"]},
                        "flip_averaged": {"keras": k["flip"], "tflite": t["flip"]},
                        "averaged": {a: {"keras": k["averaged"][a], "tflite": t["averaged"][a]}
                                     for a in k["averaged"]}}
    return result


def measure_tflite(tflite_model: TfliteModel, data: FerData) -> dict[str, Any]:
    """The converted model's accuracy per test split and averaging, no Keras model needed
    (re-measuring a shipped model whose Keras original is gone)."""
    result: dict[str, Any] = {}
    for name in ("PublicTest", "PrivateTest"):
        split = data.split(name)
        _, t = _side(tflite_model, split, clean_mask(split, data.train))
        result[name] = {"n": len(split), "tflite": t["all"], "clean_tflite": t["clean"],
                        "averaged": {a: {"tflite": v} for a, v in t["averaged"].items()}}
    return result
