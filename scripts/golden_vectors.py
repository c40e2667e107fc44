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
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from edge.assets import asset_path
from edge.classify import golden
from edge.classify.tflite import TfliteEmotionClassifier
from edge.config import ClassifierConfig
from edge.detect import default_detector_config, open_detector
from edge.errors import EdgeError
from edge.model_contract import sidecar_path
from edge.ports import Frame


def faces(classifier: TfliteEmotionClassifier) -> list[tuple[str, np.ndarray]]:
    """The astronaut photo as shot, mirrored and dimmed: the largest face of each, as the
    model's input tensor."""
    photo = cv2.imread(str(asset_path("astronaut.jpg")))
    if photo is None:
        raise EdgeError("the bundled astronaut.jpg is missing or unreadable; reinstall")
    variants = {"astronaut": photo, "astronaut-mirrored": cv2.flip(photo, 1),
                "astronaut-dim": cv2.convertScaleAbs(photo, alpha=0.6)}
    detector = open_detector(default_detector_config())
    try:
        inputs = []
        for name, image in variants.items():
            boxes = detector.detect(Frame(image=image, source=name, captured_at=0.0))
            if not boxes:
                raise EdgeError(f"no face found in {name}; check the face detector")
            box = max(boxes, key=lambda b: b.area)
            inputs.append((name, classifier.input_tensor(classifier.preprocess(image, box))))
        return inputs
    finally:
        detector.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="the .tflite; its .json sidecar is updated")
    parser.add_argument("--no-xnnpack", action="store_true",
                        help="record with LiteRT's built-in kernels instead of XNNPACK")
    args = parser.parse_args(argv)
    cfg = ClassifierConfig(model_path=args.model, tta="none",
                           is_xnnpack_enabled=not args.no_xnnpack)
    try:
        classifier = TfliteEmotionClassifier(cfg, is_golden_checked=False)
        block = golden.record(classifier.interpreter, faces(classifier),
                              classifier.contract.sha256, classifier.runtime)
        classifier.close()
        where = sidecar_path(args.model)
        sidecar = json.loads(where.read_text(encoding="utf-8"))
        sidecar["golden"] = block
        where.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
        TfliteEmotionClassifier(cfg).close()  # what the daemon will run: passes now
    except EdgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{where}: {len(block['vectors'])} golden vectors with {block['runtime']} on "
          f"{block['cpu']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
