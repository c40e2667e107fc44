"""`python -m benchmarks`: every benchmark behind one command, chosen with --only.

    .venv/bin/python -m benchmarks [--only SECTION ...] [--quick] [--out FILE.md] [options]

Without --only it runs accuracy, e2e, classifier and startup: emotion-edge against `fer`,
one table (versus_fer.py). `detector` (face detectors on real photos, detectors.py) and
`crop` (crop rules, crop.py), `training` (trainer faces/s, float32 vs bf16, training.py) and
`tracking` (face trackers and per-person smoothing on moving real faces, tracking.py) run
only when named. Run from the repository root; one thread
for OpenCV, LiteRT, OMP and TensorFlow throughout.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import REPO, versus_fer  # versus_fer loads no vendor library until it runs

FER_SECTIONS = versus_fer.SECTIONS
SECTIONS = (*FER_SECTIONS, "detector", "crop", "training", "tracking")
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
              "TF_CPP_MIN_LOG_LEVEL": "2"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    from edge.assets import asset_path
    from trainer.data import DATA_HELP, default_fer2013_path

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="The benchmarks of emotion-edge, one command; --only picks the sections.",
        epilog="Sections: accuracy, e2e, classifier, startup (emotion-edge vs fer; the default "
               "when --only is not given), detector (face detectors on real photos) and crop "
               "(crop rules per detector), training (trainer throughput per precision) and "
               "tracking (face trackers, per-person smoothing); those four run only when named "
               "in --only.")
    add = parser.add_argument
    add("--only", action="extend", nargs="+", choices=SECTIONS, metavar="SECTION",
        help="run these sections (repeatable; default: accuracy e2e classifier startup)")
    add("--quick", action="store_true",
        help="few iterations, 300 faces and 1 detector round (for the tests)")
    add("--out", type=Path, metavar="FILE.md", help="also write the Markdown to this file")
    add("--model", type=Path, metavar="FILE", default=REPO / "models" / "emotion-edge.tflite",
        help="our .tflite, its .json sidecar beside it (default: the shipped model)")
    add("--data", type=Path, metavar="PATH", default=default_fer2013_path(),
        help="FER2013 .npz, .csv or folder for accuracy (crop: .npz) "
             "(default: $EMOEDGE_FER2013, else ./fer2013.csv)")
    add("--faces", type=int, metavar="N",
        help="accuracy: score a random subset of PrivateTest (default: all, 300 with --quick); "
             "crop: PublicTest faces to paste (default 600, 300 with --quick)")
    fer = parser.add_argument_group("accuracy, e2e, classifier, startup")
    fer.add_argument("--frames", type=int, metavar="N",
                     help="timed frames per side (default 200, 5 with --quick)")
    fer.add_argument("--image", type=Path, metavar="FILE", default=asset_path("astronaut.jpg"),
                     help="photo with one face, placed in a 640x480 frame (default: the bundled "
                          "edge/assets/astronaut.jpg)")
    fer.add_argument("--probe-runs", type=int, metavar="N",
                     help="start-up probes per side (default 3, 1 with --quick)")
    fer.add_argument("--no-peer", action="store_true", help="measure emotion-edge only")
    det = parser.add_argument_group("detector")
    det.add_argument("--photos", type=Path, metavar="DIR",
                     help="folder with boxes.json and its photos (default: $EMOEDGE_FACES_DEV, "
                          "else ./faces-dev)")
    det.add_argument("--rounds", type=int, metavar="N",
                     help="timed passes over the photos (default 10, 1 with --quick)")
    train = parser.add_argument_group("training")
    train.add_argument("--train-faces", type=int, metavar="N",
                       help="Training faces per run (default 4096, 256 with --quick)")
    train.add_argument("--train-epochs", type=int, metavar="N",
                       help="epochs per run (default 3, 1 with --quick)")
    train.add_argument("--train-runs", type=int, default=1, metavar="N",
                       help="runs per precision, taken in turns (default 1)")
    args = parser.parse_args(argv)
    if args.train_faces is None:
        args.train_faces = 256 if args.quick else 4096
    if args.train_epochs is None:
        args.train_epochs = 1 if args.quick else 3
    args.only = args.only or list(FER_SECTIONS)
    if args.frames is None:
        args.frames = 5 if args.quick else 200
    if args.probe_runs is None:
        args.probe_runs = 1 if args.quick else 3
    if args.rounds is None:
        args.rounds = 1 if args.quick else 10
    if min(args.frames, args.probe_runs, args.rounds, args.faces or 1) < 1:
        parser.error("--frames, --probe-runs, --rounds and --faces must be at least 1")
    if args.quick and args.faces is None:
        args.faces = 300
    if {"crop", "training", "tracking"} & set(args.only) and not args.data.exists():
        parser.error(f"no FER2013 at {args.data} (crop, training and tracking need it). "
                     f"{DATA_HELP}")
    if {"detector", "tracking"} & set(args.only):
        from .detectors import PHOTOS_HELP, default_photos

        args.photos = args.photos or default_photos()
        if not (args.photos / "boxes.json").is_file():
            parser.error(f"no {args.photos / 'boxes.json'}: the detector and tracking "
                         f"sections need {PHOTOS_HELP}")
    needs_model = set(args.only) - {"detector", "training"}
    if needs_model and not (args.model.is_file() and args.model.with_suffix(".json").is_file()):
        parser.error(f"no model at {args.model} (with its .json sidecar); pass --model FILE")
    return args


def outputs(args: argparse.Namespace, argv: list[str]) -> Iterator[str]:
    """The asked sections' Markdown, line by line as it is measured, a blank line between
    the fer table, the detector table and the crop table."""
    for i, lines in enumerate(_tables(args, argv)):
        if i:
            yield ""
        yield from lines


def _tables(args: argparse.Namespace, argv: list[str]) -> Iterator[Iterable[str]]:
    """Each table's lines; a module is imported only when its table is asked for."""
    fer_sections = [name for name in FER_SECTIONS if name in args.only]
    if fer_sections:
        yield [versus_fer.run(args, argv, fer_sections).rstrip("\n")]
    if "detector" in args.only:
        from . import detectors

        yield detectors.lines(args)
    if "crop" in args.only:
        from . import crop

        yield crop.lines(args)
    if "training" in args.only:
        from . import training

        yield training.lines(args, THREAD_ENV)
    if "tracking" in args.only:
        from . import tracking

        yield tracking.lines(args)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.update(THREAD_ENV)  # before numpy, OpenCV or TensorFlow load
    args = parse_args(argv)
    import cv2

    cv2.setNumThreads(1)
    text = []
    for line in outputs(args, argv):
        print(line, flush=True)
        text.append(line)
    if args.out:
        args.out.write_text("\n".join(text) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
