"""Fit the edge's calibration (edge/calibration.py) on PublicTest.

The bias is logit adjustment with one knob: log-score bias = -tau x log(prior), the
prior being the share of each emotion in the training targets. tau = 0 answers as the
crowd would; tau = 1 is the classic balanced-error correction. One knob cannot learn
PublicTest's small classes by heart the way seven free biases could. The temperature is
fitted afterwards by the likelihood of the annotators' majority; it moves no answer.

The rule (`choose`) picks tau on PublicTest: the highest FER+ majority accuracy among the
settings whose mean per-emotion recall reaches RECALL_TARGET. A rule that averages the
two can prefer a worse network's point to a better one's; this one cannot, because
every candidate point is held to the same recall. The same rule chooses between models.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge.calibration import Calibration
from trainer.data import LABELS
from trainer.ferplus import Votes, agreement_metrics

TAUS = tuple(round(t, 2) for t in np.arange(0.0, 1.51, 0.05))
RECALL_TARGET = 0.78  # issue 30: every emotion found, at least this on average
TEMPERATURES = tuple(round(t, 3) for t in np.exp(np.linspace(np.log(0.4), np.log(4.0), 61)))


def crowd_score(metrics: dict[str, Any]) -> float:
    """What a training checkpoint is chosen by: accuracy and every emotion's recall."""
    return (float(metrics["accuracy"]) + float(metrics["mean_recall"])) / 2


def choose(rows: list[dict[str, Any]], min_recall: float = RECALL_TARGET) -> dict[str, Any]:
    """The operating point (or model) the rule picks from rows that carry `accuracy` and
    `mean_recall`, both measured on PublicTest: the most accurate row among those whose mean
    recall reaches `min_recall`; when none does, the row nearest to it (highest recall).
    Ties go to the higher recall, then to the earlier row."""
    if not rows:
        raise ValueError("nothing to choose from")
    meeting = [r for r in rows if r["mean_recall"] >= min_recall]
    if meeting:
        return max(meeting, key=lambda r: (r["accuracy"], r["mean_recall"]))
    return max(rows, key=lambda r: (r["mean_recall"], r["accuracy"]))


def log_bias(prior: np.ndarray, tau: float) -> tuple[float, ...]:
    return tuple(round(float(-tau * np.log(np.clip(p, 1e-3, 1))), 4) for p in prior)


def _nll(scores: np.ndarray, majority: np.ndarray) -> float:
    has = majority >= 0
    return float(-np.log(np.clip(scores[has, majority[has]], 1e-7, 1)).mean())


def fit(scores: np.ndarray, votes: Votes, prior: np.ndarray,
        min_recall: float = RECALL_TARGET) -> tuple[Calibration, float, list[dict[str, Any]]]:
    """The calibration for PublicTest's (averaged) scores, the tau the rule picks for it,
    and the table of every tau tried."""
    table: list[dict[str, Any]] = []
    for tau in TAUS:
        adjusted = Calibration(log_bias=log_bias(prior, tau)).apply(scores)
        m = agreement_metrics(adjusted, votes)
        table.append({"tau": tau, "accuracy": m["accuracy"], "mean_recall": m["mean_recall"],
                      "score": crowd_score(m)})
    best = choose(table, min_recall)
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
            "tau": tau, "rule": f"highest FER+ majority accuracy at mean recall >= {RECALL_TARGET}",
            "prior": dict(zip(LABELS, (round(float(p), 4) for p in prior),
                                          strict=True)),
            "fitted_on": "PublicTest"}
