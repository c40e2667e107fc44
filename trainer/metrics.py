"""Accuracy figures on the FER2013 test splits: per class, on the clean part, per averaging.

`evaluate` gives the run report's figures for one model; `compare` sets a Keras model
and its conversion side by side (the converter's check); `measure_tflite` re-scores a
shipped `.tflite` alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge.model_contract import AVERAGINGS
from trainer.data import LABELS, FerData, Split, clean_mask, limit_split
from trainer.scoring import TfliteModel, averaged_scores, predict_scores


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


def _accuracy(pred: np.ndarray, labels: np.ndarray) -> float:
    return round(float((pred == labels).mean()), 4) if len(labels) else 0.0


def _side(model: Any, split: Split, clean: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
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
