"""`emotion-train train` (the default command): FER2013 in, a run folder out.

The run folder holds model.keras (the best PublicTest checkpoint), its report and, while
the run lasts, the checkpoint `--resume` continues from. Errors about the data, the options
and the run folder are found before TensorFlow is imported, so they fail in about a second.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainer.data import FER2013_ENV, FerData, Split, default_fer2013_path
from trainer.errors import DataError, TrainerError

if TYPE_CHECKING:
    from trainer.config import TrainConfig

N_BLOCKS = 5


def _count(text: str, low: int = 1) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{value} is below the minimum of {low}")
    return value


def _non_negative(text: str) -> int:
    return _count(text, low=0)


def _rate(text: str, allow_zero: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (0 <= value < 1 if allow_zero else 0 < value < 1):
        raise argparse.ArgumentTypeError(f"{value} must be at least 0 and below 1" if allow_zero
                                         else f"{value} must be between 0 and 1 (exclusive)")
    return value


def _decay(text: str) -> float:
    return _rate(text, allow_zero=True)


def _blocks(text: str) -> tuple[tuple[int, int], ...]:
    """'16x1,32x1,64x2,128x2,256x1': channels x convs for each of the five blocks."""
    try:
        blocks = tuple((int(c), int(n)) for c, n in (b.split("x") for b in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not CHANNELSxCONVS,... (e.g. 16x1,32x1,64x2,128x2,256x1)") from None
    if len(blocks) != N_BLOCKS or min(min(b) for b in blocks) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} needs {N_BLOCKS} blocks of at least 1 channel and 1 conv")
    return blocks


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `train` command's options; its help is `emotion-train --help`."""
    p.epilog = ("The other commands: `emotion-train convert --help` (Keras -> int8 TFLite + "
                "sidecar), `remeasure --help` (refit a converted model's sidecar), `choose "
                "--help` (the model to ship, by the rule) and `card --help` (the model card).")
    p.add_argument("--data", type=Path, default=default_fer2013_path(),
                   help="FER2013 as .npz, Kaggle fer2013.csv, or a train/ + test/ image folder "
                        f"(default: ${FER2013_ENV}, else ./fer2013.csv; now %(default)s)")
    p.add_argument("--out", type=Path, default=Path("runs/latest"), help="run folder")
    p.add_argument("--epochs", type=_count, default=80)
    p.add_argument("--batch-size", type=_count, default=128)
    p.add_argument("--lr", type=_rate, default=2e-3, help="peak learning rate (AdamW, cosine)")
    p.add_argument("--weight-decay", type=_decay, default=0.05,
                   help="AdamW's decoupled weight decay")
    p.add_argument("--precision", choices=("auto", "float32", "mixed_bfloat16"), default="auto",
                   help="auto: bf16 where the CPU has AMX or AVX-512 BF16, else float32")
    p.add_argument("--mixup", type=_decay, default=0.0,
                   help="mixup's Beta(a, a) parameter, e.g. 0.2; 0 (the shipped recipe) "
                        "turns mixup off")
    p.add_argument("--ema", type=_decay, default=0.0,
                   help="momentum of the weight average that is validated and saved; 0: off")
    p.add_argument("--seed", type=_non_negative, default=1234)
    p.add_argument("--patience", type=_non_negative, default=30,
                   help="early-stop patience in epochs")
    p.add_argument("--limit", type=_count, default=None,
                   help="train on a random subset of N Training faces (quick runs)")
    p.add_argument("--blocks", type=_blocks, default=None,
                   help="channels x convs per conv block, e.g. 16x1,32x1,64x2,128x2,256x1 "
                        "(default: trainer.model.DEFAULT_BLOCKS; small values make test models)")
    p.add_argument("--separable", action="store_true",
                   help="depthwise-separable convolutions after the first block (fewer MACs)")
    p.add_argument("--init-from", type=Path, default=None,
                   help="start from this run's model.keras, or from a shipped int8 .tflite "
                        "of the same --blocks (a warm restart of the schedule)")
    p.add_argument("--distill-from", type=Path, action="append", default=[],
                   help="a teacher (a run's .keras, or an int8 .tflite run by LiteRT) whose "
                        "scores averaged over 10 crops are blended into the targets; repeat "
                        "for an ensemble (geometric mean of the teachers)")
    p.add_argument("--distill-weight", type=float, default=0.5,
                   help="share of the teachers' scores in each target (default: %(default)s)")
    p.add_argument("--labels", choices=("fer2013", "ferplus"), default="fer2013",
                   help="what to learn: FER2013's one label per face, or the FER+ annotators' "
                        "vote shares (faces whose votes are mostly unknown, not-a-face or "
                        "contempt are left out)")
    p.add_argument("--label-mix", type=_decay, default=0.0,
                   help="with --labels ferplus: share of the FER2013 label blended into each "
                        "target (default: %(default)s)")
    p.add_argument("--drop-single-votes", action="store_true",
                   help="with --labels ferplus: Barsoum et al.'s processing, an emotion named "
                        "by one annotator only is left out of the face's target")
    p.add_argument("--ferplus", type=Path, default=None,
                   help="FER+ votes aligned to --data (default: $EMOEDGE_FERPLUS, else "
                        "ferplus.npz beside --data); read with --labels ferplus, and for the "
                        "report's crowd-agreement figures whenever it exists")
    p.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                   help="continue a stopped run from its last finished epoch, with its own "
                        "options (every other option is ignored)")
    p.add_argument("--stop-after", type=_count, default=None, metavar="EPOCHS",
                   help="stop after this many epochs in this call; --resume continues")
    p.add_argument("--keep-duplicates", action="store_true",
                   help="keep duplicate and all-black Training faces (dropped by default)")
    p.add_argument("--report-only", action="store_true",
                   help="skip training; rebuild the report from --out/model.keras")


def _enable_onednn() -> None:
    """TensorFlow turns oneDNN on by itself only on CPUs with AVX-512; on an AVX2-only
    CPU (AMD EPYC Zen 3 here) it leaves it off, and training steps run 2x slower.
    Set before TensorFlow is imported; an explicit TF_ENABLE_ONEDNN_OPTS wins."""
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def run(args: argparse.Namespace) -> int:
    """Train (or resume, or rebuild the report), write the report, print its summary."""
    _enable_onednn()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stdout)
    from trainer.data import load_dataset

    cfg = _resumed(args) if args.resume else None
    data = load_dataset(args.data)  # fail on bad data before importing TensorFlow
    if cfg is None:
        _check_out(args)
        cfg = _config(args)
    data = _with_votes(data, args, needed=cfg.labels == "ferplus")
    train_split = _prepare(data, cfg)
    from trainer.report import write_report
    from trainer.train import train

    if args.report_only:
        model = _load_model(args.out / "model.keras")
    else:
        model = train(data, cfg, args.out, resume=args.resume is not None,
                      stop_after=args.stop_after)
    report = write_report(model, data, train_split, args.out)
    _print_summary(model, report, args.out, trained=not args.report_only)
    return 0


def _check_out(args: argparse.Namespace) -> None:
    if args.out.exists() and not args.out.is_dir():
        raise TrainerError(f"--out {args.out} is a file; pass a folder for the run")
    if args.init_from is not None and not args.init_from.is_file():
        raise TrainerError(f"--init-from {args.init_from} not found: pass a run's model.keras "
                        "or an int8 .tflite")
    for teacher in args.distill_from:
        if not teacher.is_file():
            raise TrainerError(f"--distill-from {teacher} not found: pass a run's "
                            "model.keras or an int8 .tflite")
    if args.drop_single_votes and args.labels != "ferplus":
        raise TrainerError("--drop-single-votes works on the FER+ votes: add --labels ferplus")
    if not 0 < args.distill_weight <= 1:
        raise TrainerError(f"--distill-weight {args.distill_weight}: must be in (0, 1]")
    if args.report_only and not (args.out / "model.keras").is_file():
        raise TrainerError(f"{args.out / 'model.keras'} not found: train first, or point --out "
                        "at a run folder")
    args.out.mkdir(parents=True, exist_ok=True)


def _config(args: argparse.Namespace) -> TrainConfig:
    from trainer.config import TrainConfig

    extra = {"blocks": args.blocks} if args.blocks else {}
    return TrainConfig(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                       learning_rate=args.lr, weight_decay=args.weight_decay,
                       precision=args.precision, mixup=args.mixup, ema=args.ema,
                       patience=args.patience, limit=args.limit,
                       drop_duplicates=not args.keep_duplicates,
                       init_from=str(args.init_from) if args.init_from else None,
                       distill_from=tuple(str(t) for t in args.distill_from),
                       distill_weight=args.distill_weight, labels=args.labels,
                       label_mix=args.label_mix,
                       is_single_vote_dropped=args.drop_single_votes,
                       is_separable=args.separable,
                       ferplus=str(args.ferplus) if args.ferplus else None, **extra)


def _prepare(data: FerData, cfg: TrainConfig) -> Split:
    from trainer.batches import prepare_training

    train_split, notes = prepare_training(data, cfg)
    if len(train_split) == 0:
        raise DataError(f"{data.source}: no Training faces left after dropping duplicates "
                        "(pass --keep-duplicates)")
    dropped = ", ".join(f"{k.removeprefix('dropped_')} {v:,}" for k, v in notes.items()
                        if k.startswith("dropped_"))
    print(f"Training: {len(data.train):,} faces ({dropped or 'none dropped'}); "
          f"fitting on {len(train_split):,}; PublicTest {len(data.public):,}, "
          f"PrivateTest {len(data.private):,}")
    return train_split


def _load_model(path: Path) -> Any:
    import keras

    try:
        return keras.models.load_model(path)
    except Exception as e:  # keras raises many types for a bad file; all mean "not a model"
        raise DataError(f"cannot load {path}: {e} (retrain, or point --out at another run)") from e


def _resumed(args: argparse.Namespace) -> TrainConfig:
    from trainer.checkpoint import CHECKPOINT, saved_run

    if not (args.resume / CHECKPOINT / "state.json").is_file():
        raise TrainerError(f"--resume {args.resume}: no checkpoint there (a run folder that "
                        f"`emotion-train` trained has {CHECKPOINT}/state.json)")
    cfg, data_path = saved_run(args.resume)
    args.out, args.data = args.resume, data_path
    args.ferplus = Path(cfg.ferplus) if cfg.ferplus else args.ferplus
    return cfg


def _with_votes(data: FerData, args: argparse.Namespace, needed: bool) -> FerData:
    """The FER+ votes attached when asked for, or when they lie beside an .npz dataset."""
    from trainer.ferplus import attach_votes, default_ferplus_path

    path = args.ferplus or default_ferplus_path(args.data)
    if not needed and (args.data.suffix != ".npz" or not path.is_file()):
        return data
    return attach_votes(data, path, args.data)


def _print_summary(model: Any, report: dict[str, Any], out: Path, trained: bool) -> None:
    from trainer.markdown import read_train_summary
    from trainer.model import count_macs

    print(f"model: {count_macs(model) / 1e6:.1f} M MACs per face, "
          f"{int(model.count_params()):,} parameters")
    summary = read_train_summary(out)
    if summary.get("images_per_second"):
        print(f"training{'' if trained else ' (earlier run, train.json)'}: "
              f"{summary['images_per_second']} images/s (median epoch, timed with its "
              f"PublicTest validation), {summary.get('epochs_run')} epochs in "
              f"{summary.get('train_seconds')} s")
    for name in ("PublicTest", "PrivateTest"):
        r = report[name]
        print(f"{name}: accuracy {r['accuracy']:.4f}, clean {r['clean']['accuracy']:.4f} "
              f"(n={r['clean']['n']}), flip-TTA {r['flip_tta_accuracy']:.4f}, "
              f"macro-F1 {r['macro_f1']:.4f}")
    print(f"report: {out / 'report.md'}")
