"""The FER+ yardstick for a model as the edge runs it: every averaging, calibrated.

For each averaging (`none`, `flip`, `crops`), the calibration is fitted on PublicTest
(calibrate.py) and PrivateTest is scored with it: FER+ majority accuracy (with n), each
emotion's recall and their mean, ECE and cross-entropy against the votes, and FER2013's
single-label accuracy of the same answers. Trainer report, converter and benchmarks all
take their crowd figures from here; `crowd_of` gives the converter's and `remeasure`'s, for
an int8 model, with the votes read from beside the dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from edge.model_contract import AVERAGINGS
from trainer.calibrate import crowd_score, fit, sidecar_block
from trainer.data import FerData, Split, limit_split
from trainer.ferplus import Votes, agreement_metrics, attach_votes, default_ferplus_path
from trainer.scoring import TfliteModel, averaged_scores


def _rounded(metrics: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            out[key] = {k: round(v, 4) if isinstance(v, float) else v for k, v in value.items()}
        elif isinstance(value, float):
            out[key] = round(value, 4)
        else:
            out[key] = value
    return out


def split_figures(scores: np.ndarray, split: Split) -> dict[str, Any]:
    """Crowd agreement and FER2013 accuracy of one split's (calibrated) scores."""
    assert split.votes is not None
    m = agreement_metrics(scores, Votes(split.votes))
    m["fer2013_accuracy"] = float((scores.argmax(1) == split.labels).mean())
    m["score"] = crowd_score(m)
    return _rounded(m)


def crowd_figures(model: Any, data: FerData,
                  averagings: tuple[str, ...] = AVERAGINGS) -> dict[str, Any]:
    """Per averaging: the fitted calibration (sidecar form), the tau table, and PublicTest
    and PrivateTest figures before (`raw`) and after calibration."""
    if data.public.votes is None or data.private.votes is None:
        raise ValueError("crowd figures need the FER+ votes attached (trainer.ferplus)")
    return {averaging: scored_figures(averaged_scores(model, data.public.images, averaging),
                                      averaged_scores(model, data.private.images, averaging),
                                      data)
            for averaging in averagings}


def scored_figures(public: np.ndarray, private: np.ndarray, data: FerData) -> dict[str, Any]:
    """For one set of test-split scores (a model's averaged ones, or an ensemble's): the
    calibration the rule fits on PublicTest, the tau table, and both splits' figures before
    (`raw`) and after calibration."""
    assert data.public.votes is not None
    prior = public.mean(0)  # what the model answers on average: the prior it learned
    calibration, tau, table = fit(public, Votes(data.public.votes), prior)
    return {
        "calibration": sidecar_block(calibration, tau, prior),
        "tau_table": [_rounded(row) for row in table],
        "PublicTest": split_figures(calibration.apply(public), data.public),
        "PrivateTest": split_figures(calibration.apply(private), data.private),
        "raw": {"PublicTest": split_figures(public, data.public),
                "PrivateTest": split_figures(private, data.private)},
    }


def crowd_of(tflite: TfliteModel, data: FerData, data_path: Path, ferplus: Path | None,
             accuracy: dict[str, Any], echo: Callable[[str], None],
             limit_eval: int | None = None, seed: int = 0) -> dict[str, Any] | None:
    """FER+ figures of the int8 model with the calibration fitted for it, when the votes
    exist; FER2013 accuracy per averaging then counts the calibrated answers, as the edge
    gives them (the uncalibrated figure is kept beside it)."""
    votes = ferplus or default_ferplus_path(data_path)
    if data_path.suffix != ".npz" or not votes.is_file():
        echo(f"no FER+ votes at {votes}: no calibration, no crowd figures")
        return None
    data = attach_votes(data, votes, data_path)
    if limit_eval is not None:
        data = replace(data, public=limit_split(data.public, limit_eval, seed),
                       private=limit_split(data.private, limit_eval, seed))
    crowd = crowd_figures(tflite, data)
    for averaging, row in crowd.items():
        for split in ("PublicTest", "PrivateTest"):
            cell = accuracy[split]["averaged"][averaging]
            cell["uncalibrated_tflite"] = cell["tflite"]
            cell["tflite"] = row[split]["fer2013_accuracy"]
        p = row["PrivateTest"]
        q = row["PublicTest"]
        echo(f"FER+, {averaging}, calibrated (tau {row['calibration']['tau']:g}, "
             f"T {row['calibration']['temperature']:g}): PublicTest majority "
             f"{q['accuracy']:.2%}, mean recall {q['mean_recall']:.2%}; PrivateTest majority "
             f"{p['accuracy']:.2%} (n={p['n']}), Barsoum {p['barsoum']['accuracy']:.2%} "
             f"(n={p['barsoum']['n']}), mean recall {p['mean_recall']:.2%}, "
             f"lowest {min(p['recall'].values()):.2f}, ECE {p['ece']:.3f}, "
             f"CE {p['cross_entropy']:.3f}, FER2013 {p['fer2013_accuracy']:.2%}")
    return crowd
