"""Distil teachers' test-time averaging into the student's single pass.

Each teacher's scores, averaged over the 10 views of `crops` (the averaging the daemon can
afford only where 14 ms per face is fine), are computed once for each Training face; with
several teachers their log-scores are averaged (a geometric mean: an ensemble that no one
network of the budget could run on the Pi). The result is blended into the targets the
student would learn anyway (vote shares or one-hot labels), and the student learns them
through all of its augmentation. A teacher is a run's `.keras`, or an int8 `.tflite`
scored by LiteRT exactly as the daemon would run it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from trainer.data import Split
from trainer.scoring import TfliteModel, averaged_scores

log = logging.getLogger(__name__)
FLOOR = 1e-6  # no teacher's zero may veto an emotion in the geometric mean


def load_teacher(path: Path) -> object:
    if path.suffix == ".tflite":
        return TfliteModel(path)
    import keras

    return keras.models.load_model(path)


def teacher_scores(paths: tuple[Path, ...], train: Split, averaging: str = "crops",
                   cache: Path | None = None) -> np.ndarray:
    """(n, classes) ensemble scores: the geometric mean over teachers of each one's scores
    averaged over `averaging`'s views, renormalised. `cache` (an .npz) keeps them for a
    resumed run, and is recomputed when the teachers or the faces differ."""
    key = np.array([str(p) for p in paths] + [averaging, str(len(train))])
    if cache is not None and cache.is_file():
        with np.load(cache) as saved:
            if np.array_equal(saved["key"], key):
                cached: np.ndarray = saved["scores"]
                return cached
    ensemble, each = ensemble_scores([load_teacher(p) for p in paths], train.images, averaging)
    for path, scores in zip(paths, each, strict=True):
        log.info("teacher %s agrees with %.1f%% of Training labels", path,
                 100 * float((scores.argmax(1) == train.labels).mean()))
    if cache is not None:
        np.savez(cache, key=key, scores=ensemble)
    return ensemble


def geometric_mean(scores: list[np.ndarray]) -> np.ndarray:
    """The teachers' ensemble: the mean of their log-scores, renormalised."""
    mean = np.exp(np.mean([np.log(np.clip(x, FLOOR, 1)) for x in scores], axis=0))
    ensemble: np.ndarray = (mean / mean.sum(1, keepdims=True)).astype(np.float32)
    return ensemble


def ensemble_scores(teachers: list[object], images: np.ndarray,
                    averaging: str = "crops") -> tuple[np.ndarray, list[np.ndarray]]:
    """The teachers' ensemble scores for raw faces (`load_teacher`'s models), as
    `teacher_scores` makes them for Training, and each teacher's own (to measure the
    teacher as the student learns it)."""
    each = [averaged_scores(teacher, images, averaging) for teacher in teachers]
    return geometric_mean(each), each


def blend(teacher: np.ndarray, targets: np.ndarray, weight: float) -> np.ndarray:
    """`weight` x the teachers' scores + the rest of the targets the student had."""
    if not 0 < weight <= 1:
        raise ValueError(f"distillation weight {weight} must be in (0, 1]")
    mixed: np.ndarray = (weight * teacher + (1 - weight) * targets).astype(np.float32)
    return mixed
