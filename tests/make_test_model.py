"""Make the tiny test model the edge tests run: `python -m tests.make_test_model`.

The production architecture (`trainer.model.build_model`) with narrow blocks, fitted on 8
synthetic faces per class and converted to int8 by the real converter (`trainer.to_tflite`),
so the edge tests run a real LiteRT interpreter on the real model contract without
TensorFlow. Writes tests/data/tiny-model.tflite and its sidecar tiny-model.json; run it
again (and commit both files) when the trainer's contract changes.
`tests/trainer/test_tiny_model.py` fails when the committed pair no longer matches what this
script makes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.fixtures.models import build_tiny_keras, build_tiny_tflite

DATA = Path(__file__).resolve().parent / "data"
COMMITTED = DATA / "tiny-model.tflite"


def make(out: Path) -> Path:
    """Train and convert the tiny model; returns `out` (.tflite, its .json beside it)."""
    with tempfile.TemporaryDirectory() as tmp:
        keras_path = build_tiny_keras(Path(tmp) / "model.keras")
        return build_tiny_tflite(keras_path, out.with_suffix(""))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=COMMITTED, help=f"default: {COMMITTED}")
    args = p.parse_args(argv)
    print(f"wrote {make(args.out)} and {args.out.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
