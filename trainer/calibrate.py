"""Fit the edge's calibration (edge/calibration.py) on PublicTest.

The bias is logit adjustment with one knob: log-score bias = -tau x log(prior), the
prior being the share of each emotion in the training targets. tau = 0 answers as the
crowd would; tau = 1 is the classic balanced-error correction. One knob, chosen on
PublicTest by the mean of FER+ majority accuracy and mean per-emotion recall, cannot
learn PublicTest's small classes by heart the way seven free biases could. The
temperature is fitted afterwards by the likelihood of the annotators' majority.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge.calibration import Calibration
from trainer.data import LABELS
from trainer.ferplus import Votes, agreement_metrics

TAUS = tuple(round(t, 2) for t in np.arange(0.0, 1.51, 0.1))
TEMPERATURES = tuple(round(t, 3) for t in np.exp(np.linspace(np.log(0.4), np.log(4.0), 61)))


def crowd_score(metrics: dict[str, Any]) -> float:
    """What a checkpoint or a setting is chosen by: accuracy and every emotion's recall."""
    return (float(metrics["accuracy"]) + float(metrics["mean_recall"])) / 2


def log_bias(prior: np.ndarray, tau: float) -> tuple[float, ...]:
    return tuple(round(float(-tau * np.log(np.clip(p, 1e-3, 1))), 4) for p in prior)


def _nll(scores: np.ndarray, majority: np.ndarray) -> float:
    has = majority >= 0
    return float(-np.log(np.clip(scores[has, majority[has]], 1e-7, 1)).mean())


def fit(scores: np.ndarray, votes: Votes, prior: np.ndarray
        ) -> tuple[Calibration, float, list[dict[str, Any]]]:
    """The calibration for PublicTest's (averaged) scores, the tau it uses, and the table of
    every tau tried."""
    table: list[dict[str, Any]] = []
    for tau in TAUS:
        adjusted = Calibration(log_bias=log_bias(prior, tau)).apply(scores)
        m = agreement_metrics(adjusted, votes)
        table.append({"tau": tau, "accuracy": m["accuracy"], "mean_recall": m["mean_recall"],
                      "score": crowd_score(m)})
    best = max(table, key=lambda row: row["score"])
    bias = log_bias(prior, float(best["tau"]))
    majority = votes.majority()
    temperature = min(TEMPERATURES, key=lambda t: _nll(
        Calibration(temperature=t, log_bias=bias).apply(scores), majority))
    return Calibration(temperature=float(temperature), log_bias=bias), float(best["tau"]), table


def sidecar_block(calibration: Calibration, tau: float, prior: np.ndarray) -> dict[str, Any]:
    """The sidecar's `calibration`, read by edge.calibration.calibration_of."""
    return {"temperature": calibration.temperature,
            "log_bias": dict(zip(LABELS, calibration.log_bias or (0.0,) * len(LABELS),
                                 strict=True)),
            "method": "logit adjustment -tau*log(prior), then temperature",
            "tau": tau, "prior": dict(zip(LABELS, (round(float(p), 4) for p in prior),
                                          strict=True)),
            "fitted_on": "PublicTest"}
