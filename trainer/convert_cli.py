"""`emotion-train convert` and `emotion-train remeasure`: their arguments and how they run.

    emotion-train convert --model runs/<name>/model.keras --data fer2013.npz --out models/<name>

(`python scripts/convert_tflite.py ...` is the same command) writes models/<name>.tflite and
models/<name>.json, after checking the converted model against Keras on PublicTest and
PrivateTest (trainer.converter). Exit 0 written, 1 rejected by --max-drop (nothing written)
or a user error. A model trained under any --precision (mixed_bfloat16 too) is converted,
and checked, as its float32 network with the same weights.

    emotion-train remeasure --model models/<name>.tflite --averaging crops

re-scores a converted model with every averaging, refits its calibration by the rule (with
the FER+ votes) and rewrites its sidecar's figures, calibration and default; no Keras model
needed (trainer.remeasure).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from edge.model_contract import AVERAGINGS
from trainer.data import FER2013_ENV, default_fer2013_path
from trainer.to_tflite import MODES  # TensorFlow is imported only when converting


def _model_and_data(p: argparse.ArgumentParser, model_help: str) -> None:
    p.add_argument("--model", type=Path, required=True, help=model_help)
    p.add_argument("--data", type=Path, default=default_fer2013_path(),
                   help="FER2013 as .npz, Kaggle fer2013.csv or image folder "
                        f"(default: ${FER2013_ENV}, else ./fer2013.csv; now %(default)s)")
    p.add_argument("--ferplus", type=Path, default=None,
                   help="FER+ votes aligned to --data: fits the edge's calibration on "
                        "PublicTest and adds the crowd figures (default: ferplus.npz beside "
                        "--data, when it is there)")


def add_convert_arguments(p: argparse.ArgumentParser) -> None:
    _model_and_data(p, "a .keras model from a training run")
    p.add_argument("--out", type=Path, required=True,
                   help="output stem: models/emotion-edge writes emotion-edge.tflite + .json")
    p.add_argument("--name", default="emotion-edge-cnn", help="model name in the sidecar")
    p.add_argument("--version", default=None,
                   help="model version in the sidecar (default: date + sha256 prefix)")
    p.add_argument("--max-drop", type=float, default=1.0,
                   help="reject if converted accuracy is more than this many points below "
                        "Keras on either test split (default: %(default)s)")
    p.add_argument("--mode", choices=MODES, default="int8",
                   help="int8 (full-integer, the shipped kind; default), float32 or dynamic")
    p.add_argument("--rep-samples", type=int, default=300,
                   help="Training faces used to calibrate int8 (default: %(default)s)")
    p.add_argument("--limit-eval", type=int, default=None,
                   help="score a random N faces of each test split (quick checks only)")
    p.add_argument("--averaging", choices=AVERAGINGS, default="flip",
                   help="the test-time averaging the edge uses by default, recorded in the "
                        "sidecar (default: %(default)s: 2 invokes; crops is 10)")
    p.add_argument("--continuous-averaging", choices=AVERAGINGS, default="flip",
                   help="the averaging of continuous mode, where every frame pays it "
                        "(default: %(default)s)")
    p.add_argument("--seed", type=int, default=1234, help="sampling seed")


def add_remeasure_arguments(p: argparse.ArgumentParser) -> None:
    _model_and_data(p, "a converted .tflite; its .json sidecar beside it is rewritten")
    p.add_argument("--averaging", choices=AVERAGINGS, default=None,
                   help="the default averaging to record (default: keep the sidecar's)")


def convert(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter out
    from trainer.converter import ConvertRequest, run

    return run(ConvertRequest(
        model=args.model, data=args.data, out=args.out, mode=args.mode,
        max_drop=args.max_drop, rep_samples=args.rep_samples, limit_eval=args.limit_eval,
        name=args.name, version=args.version, seed=args.seed, averaging=args.averaging,
        continuous_averaging=args.continuous_averaging, ferplus=args.ferplus))


def remeasure(args: argparse.Namespace) -> int:
    from trainer.remeasure import remeasure

    return remeasure(args.model, args.data, args.averaging, ferplus=args.ferplus)
