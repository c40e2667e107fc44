"""Score a model on the test splits through the one preprocessing path, write the report.

Every figure here comes from `predict_scores`, which feeds the same raw uint8 faces the
model was trained on; the report test checks it against `model.evaluate`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from trainer.data import LABELS, FerData, Split, clean_mask


def predict_scores(model: Any, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Softmax scores for raw uint8 (n, 48, 48) faces; works for Keras models."""
    return np.asarray(model.predict(images[..., None], batch_size=batch_size, verbose=0))


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
    """metrics.json plus the plots (plots.py) in run_dir; returns the metrics."""
    run_dir.mkdir(parents=True, exist_ok=True)
    report = evaluate(model, data)
    (run_dir / "metrics.json").write_text(json.dumps(report, indent=2))
    try:
        from trainer.plots import write_plots
    except ImportError:  # plots module not there yet: metrics alone still make a report
        return report
    write_plots(report, train_split, run_dir)
    return report
