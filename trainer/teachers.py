"""Measure teachers as a student learns them: each alone, then their ensemble.

    emotion-train teachers /work/runs/t1/model.keras /work/runs/t2/model.keras

Each teacher (a run's `.keras`, or an int8 `.tflite` run by LiteRT) is scored with the
averaging distillation uses (`crops`), the ensemble is the geometric mean of their scores
(`trainer.distill`, as `--distill-from` blends it), and each gets the edge's calibration
fitted by the rule on PublicTest. Printed per row: PublicTest raw and at the rule's tau
(what chooses), then PrivateTest at that tau (never used to choose).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from trainer.data import default_fer2013_path
from trainer.errors import TrainerError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("teachers", type=Path, nargs="+",
                   help="runs' model.keras or int8 .tflite files")
    p.add_argument("--data", type=Path, default=default_fer2013_path(),
                   help="FER2013 .npz with ferplus.npz beside it (default: %(default)s)")
    p.add_argument("--averaging", default="crops", choices=("none", "flip", "crops"))


def run(args: argparse.Namespace) -> int:
    from trainer.crowd import scored_figures
    from trainer.data import load_dataset
    from trainer.distill import ensemble_scores, load_teacher
    from trainer.ferplus import attach_votes, default_ferplus_path

    for path in args.teachers:
        if path.suffix not in (".keras", ".tflite") or not path.is_file():
            raise TrainerError(f"{path}: pass a run's model.keras or an int8 .tflite")
    data = attach_votes(load_dataset(args.data), default_ferplus_path(args.data), args.data)
    teachers = tuple(args.teachers)
    models = [load_teacher(path) for path in teachers]  # once, for both splits
    public, public_each = ensemble_scores(models, data.public.images, args.averaging)
    private, private_each = ensemble_scores(models, data.private.images, args.averaging)
    rows: list[tuple[str, np.ndarray, np.ndarray]] = [
        (str(p), a, b) for p, a, b in zip(teachers, public_each, private_each, strict=True)]
    if len(teachers) > 1:
        rows.append((f"ensemble of {len(teachers)} (geometric mean)", public, private))
    for name, pub, priv in rows:
        print(f"{name}, {args.averaging}: {_line(scored_figures(pub, priv, data))}")
    return 0


def _line(f: dict[str, Any]) -> str:
    raw, q, p = f["raw"]["PublicTest"], f["PublicTest"], f["PrivateTest"]
    return (f"PublicTest raw {raw['accuracy']:.2%} / {raw['mean_recall']:.2%}, "
            f"at tau {f['calibration']['tau']:g} {q['accuracy']:.2%} / {q['mean_recall']:.2%}"
            f"  (PrivateTest {p['accuracy']:.2%}, Barsoum {p['barsoum']['accuracy']:.2%}, "
            f"mean recall {p['mean_recall']:.2%}, lowest {min(p['recall'].values()):.2f}, "
            f"strong {p['strong']['accuracy']:.2%}; not used)")
