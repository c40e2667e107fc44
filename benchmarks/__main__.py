"""`python -m benchmarks`: every benchmark behind one command, chosen with --only.

    .venv/bin/python -m benchmarks [--only SECTION ...] [--quick] [--out FILE.md] [options]

Without --only it runs accuracy, e2e, classifier and startup: emotion-edge against `fer`,
one table (versus_fer.py). `detector` (face detectors on real photos, detectors.py) and
`crop` (crop rules, crop.py), `training` (trainer faces/s, float32 vs bf16, training.py) and
`tracking` (face trackers and per-person smoothing on moving real faces, tracking.py) run
only when named. Run from the repository root; one thread
for OpenCV, LiteRT, OMP and TensorFlow throughout. `--write-docs` also puts each section that
ran into docs/benchmarks.md, between its markers, and the README's rows derived from it
(docs.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from . import REPO, docs, versus_fer  # neither loads a vendor library until it runs
from .report import section_command

FER_SECTIONS = versus_fer.SECTIONS
SECTIONS = (*FER_SECTIONS, "detector", "crop", "training", "tracking")
WITHOUT_MODEL = {"detector", "training"}  # the sections that do not run our model
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
    add("--write-docs", action="store_true",
        help="also rewrite the sections that ran in docs/benchmarks.md (between their "
             "<!-- benchmarks:SECTION --> markers, with the command, date, model and machine) "
             "and the README's benchmark rows, which are derived from it")
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
    if args.write_docs:
        _check_docs(parser, args)
    needs_model = set(args.only) - WITHOUT_MODEL
    if needs_model and not (args.model.is_file() and args.model.with_suffix(".json").is_file()):
        parser.error(f"no model at {args.model} (with its .json sidecar); pass --model FILE")
    return args


def _check_docs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse --write-docs before anything runs rather than after: with --quick (its figures
    are not ones to publish), or when docs/benchmarks.md lacks a section's markers."""
    if args.quick:
        parser.error("--write-docs writes the published figures: run without --quick")
    missing = docs.unmarked(docs.BENCHMARKS_MD.read_text(encoding="utf-8"), args.only)
    if missing:
        parser.error(docs.marker_problem(missing, "docs/benchmarks.md"))


@dataclass(frozen=True)
class Table:
    """One table of the output: its lines, printed as they are measured, and what it puts in
    docs/benchmarks.md, from those lines (section -> Markdown)."""

    lines: Iterable[str]
    bodies: Callable[[list[str]], dict[str, str]]


def _tables(args: argparse.Namespace, argv: list[str]) -> Iterator[Table]:
    """Each table; a module is imported only when its table is asked for."""
    fer_sections = [name for name in FER_SECTIONS if name in args.only]
    if fer_sections:
        fer = versus_fer.run(args, argv, fer_sections)
        yield Table(fer.markdown.rstrip("\n").splitlines(), lambda _: fer.bodies)
    for name in ("detector", "crop", "training", "tracking"):
        if name in args.only:
            yield Table(_section_lines(name, args), partial(_as_body, name))


def _as_body(name: str, lines: list[str]) -> dict[str, str]:
    return {name: "\n".join(lines)}


def _section_lines(name: str, args: argparse.Namespace) -> Iterator[str]:
    if name == "detector":
        from . import detectors

        yield from detectors.lines(args)
    elif name == "crop":
        from . import crop

        yield from crop.lines(args)
    elif name == "training":
        from . import training

        yield from training.lines(args, THREAD_ENV)
    else:
        from . import tracking

        yield from tracking.lines(args)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.environ.update(THREAD_ENV)  # before numpy, OpenCV or TensorFlow load
    args = parse_args(argv)
    import cv2

    from .machine import describe

    cv2.setNumThreads(1)
    when, machine = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), describe()
    text: list[str] = []
    bodies: dict[str, str] = {}
    for table in _tables(args, argv):
        if text:
            text.append("")  # a blank line between tables
            print(flush=True)
        start = len(text)
        for line in table.lines:
            print(line, flush=True)
            text.append(line)
        bodies.update(table.bodies(text[start:]))
    if args.out:
        args.out.write_text("\n".join(text) + "\n", encoding="utf-8")
    if args.write_docs:
        model = _model_name(args.model)
        try:
            docs.write_docs({name: docs.stamp(section_command(REPO, argv, name), when, machine,
                                              None if name in WITHOUT_MODEL else model)
                             + "\n\n" + body for name, body in bodies.items()})
        except docs.DocsError as e:  # the tables above are still printed (and in --out)
            print(f"bench: docs not written: {e}", file=sys.stderr)
            return 1
        print(f"bench: wrote {', '.join(bodies)} into docs/benchmarks.md, and the README's "
              "rows derived from it", file=sys.stderr)
    return 0


def _model_name(model: Path) -> str:
    from edge.model_contract import load_contract

    return load_contract(model).display_name


if __name__ == "__main__":
    sys.exit(main())
