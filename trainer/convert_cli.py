"""Convert a trained Keras model to the TFLite model the Pi runs, verify it, write its contract.

    emotion-train convert --model runs/<name>/model.keras --data fer2013.csv --out models/<name>

(`python scripts/convert_tflite.py ...` is the same command)

writes models/<name>.tflite and models/<name>.json, after checking the converted model
against Keras on PublicTest and PrivateTest. Exit 0 written, 1 rejected by --max-drop
(nothing written), 2 bad input. A model trained under any --precision (mixed_bfloat16 too)
is converted, and checked, as its float32 network with the same weights.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from edge.model_contract import AVERAGINGS
from trainer.converter import ConvertRequest, run
from trainer.data import FER2013_ENV, DataError, default_fer2013_path
from trainer.errors import ExportError
from trainer.remeasure import remeasure
from trainer.to_tflite import MODES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emotion-train convert", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True,
                   help="a .keras model from a training run (with --remeasure: a .tflite)")
    p.add_argument("--data", type=Path, default=default_fer2013_path(),
                   help="FER2013 as .npz, Kaggle fer2013.csv or image folder "
                        f"(default: ${FER2013_ENV}, else ./fer2013.csv; now %(default)s)")
    p.add_argument("--out", type=Path, default=None,
                   help="output stem: models/emotion-edge writes emotion-edge.tflite + .json")
    p.add_argument("--mode", choices=MODES, default="int8",
                   help="int8 (full-integer, the shipped kind; default), float32 or dynamic")
    p.add_argument("--max-drop", type=float, default=1.0,
                   help="reject if converted accuracy is more than this many points below "
                        "Keras on either test split (default: %(default)s)")
    p.add_argument("--rep-samples", type=int, default=300,
                   help="Training faces used to calibrate int8 (default: %(default)s)")
    p.add_argument("--limit-eval", type=int, default=None,
                   help="score a random N faces of each test split (quick checks only)")
    p.add_argument("--name", default="emotion-edge-cnn", help="model name in the sidecar")
    p.add_argument("--version", default=None,
                   help="model version in the sidecar (default: date + sha256 prefix)")
    p.add_argument("--averaging", choices=AVERAGINGS, default="flip",
                   help="the test-time averaging the edge uses by default, recorded in the "
                        "sidecar (default: %(default)s: 2 invokes; crops is 10)")
    p.add_argument("--continuous-averaging", choices=AVERAGINGS, default="flip",
                   help="the averaging of continuous mode, where every frame pays it "
                        "(default: %(default)s)")
    p.add_argument("--ferplus", type=Path, default=None,
                   help="FER+ votes aligned to --data: fits the edge's calibration on "
                        "PublicTest and adds the crowd figures (default: ferplus.npz beside "
                        "--data, when it is there)")
    p.add_argument("--remeasure", action="store_true",
                   help="re-score an exported --model .tflite with every averaging, refit "
                        "its calibration by the rule (with the FER+ votes) and rewrite its "
                        "sidecar's figures, calibration and default; no Keras model needed")
    p.add_argument("--seed", type=int, default=1234, help="sampling seed")
    p.add_argument("--debug", action="store_true", help="show tracebacks for input errors")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter out
    try:
        if args.remeasure:
            return remeasure(args.model, args.data, args.averaging, ferplus=args.ferplus)
        if args.out is None:
            raise ExportError("--out is required (e.g. models/emotion-edge)")
        return _convert(args)
    except (ExportError, DataError) as e:
        if args.debug:
            raise
        print(f"emotion-train convert: error: {e}", file=sys.stderr)
        return 2


def _convert(args: argparse.Namespace) -> int:
    req = ConvertRequest(model=args.model, data=args.data, out=args.out, mode=args.mode,
                         max_drop=args.max_drop, rep_samples=args.rep_samples,
                         limit_eval=args.limit_eval, name=args.name, version=args.version,
                         seed=args.seed, averaging=args.averaging,
                         continuous_averaging=args.continuous_averaging, ferplus=args.ferplus)
    return run(req)


if __name__ == "__main__":
    sys.exit(main())
