"""Record golden vectors in a model's sidecar: the exact input and output tensors of the
model for a few faces of the bundled photo, as this machine's runtime computes them.

    python scripts/golden_vectors.py edge/assets/emotion-edge.tflite [--no-xnnpack]

Re-run it whenever the model file changes (a re-export, a new model): it rewrites only the
sidecar's `golden` block, which names the model's sha256, so a block left from an older
model is skipped (with a warning) rather than failing. Record on a machine whose runtime
is trusted (x86-64 or a real Pi, not an emulator). The daemon, `check-config` and every
command that loads the model then run them (edge/classify/golden.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge.errors import EdgeError
from edge.model_contract import sidecar_path
from trainer.golden import write_golden


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="the .tflite; its .json sidecar is updated")
    parser.add_argument("--no-xnnpack", action="store_true",
                        help="record with LiteRT's built-in kernels instead of XNNPACK")
    args = parser.parse_args(argv)
    try:
        block = write_golden(args.model, is_xnnpack_enabled=not args.no_xnnpack)
    except EdgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{sidecar_path(args.model)}: {len(block['vectors'])} golden vectors with "
          f"{block['runtime']} on {block['cpu']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
