"""`emotion-train`: FER2013 in, a run folder with model.keras and its report out."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from trainer.data import DataError

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "fer2013.npz"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emotion-train", description=__doc__)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="FER2013 as .npz, Kaggle fer2013.csv, or a train/ + test/ image folder "
                        "(default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("runs/latest"), help="run folder")
    p.add_argument("--epochs", type=int, default=55)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (AdamW, cosine)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--patience", type=int, default=20, help="early-stop patience in epochs")
    p.add_argument("--limit", type=int, default=None,
                   help="train on a random subset of N Training faces (quick runs)")
    p.add_argument("--keep-duplicates", action="store_true",
                   help="keep duplicate and all-black Training faces (dropped by default)")
    p.add_argument("--report-only", action="store_true",
                   help="skip training; rebuild the report from --out/model.keras")
    p.add_argument("--debug", action="store_true", help="show tracebacks for user errors")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stdout)
    try:
        return _run(args)
    except (DataError, FileNotFoundError) as e:
        if args.debug:
            raise
        print(f"emotion-train: error: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from trainer.data import load_dataset

    if args.epochs < 1 or args.batch_size < 1:
        raise DataError("--epochs and --batch-size must be at least 1")
    data = load_dataset(args.data)  # fail on bad data before importing TensorFlow
    import keras

    from trainer.evaluate import write_report
    from trainer.train import TrainConfig, prepare_training, train

    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                      learning_rate=args.lr, patience=args.patience, limit=args.limit,
                      drop_duplicates=not args.keep_duplicates)
    if args.report_only:
        model_path = args.out / "model.keras"
        if not model_path.exists():
            raise DataError(f"{model_path} not found: train first, or point --out at a run")
        model = keras.models.load_model(model_path)
    else:
        model = train(data, cfg, args.out)
    train_split, _ = prepare_training(data, cfg)
    report = write_report(model, data, train_split, args.out)
    print(f"PrivateTest accuracy {report['PrivateTest']['accuracy']:.4f}, "
          f"report in {args.out}")
    return 0
