"""Recording golden vectors, the part of the model's contract that `edge/classify/golden.py`
checks at every start: the converter writes them after every export, `python
scripts/golden_vectors.py MODEL` re-records them by hand. The trainer writes the contract;
`edge/` only reads and checks it.

The faces are the bundled astronaut photo as shot, mirrored and dimmed, cut out by the
default face detector and prepared exactly as the daemon prepares a face; then three
reworkings of the first (upside down, top half, bottom half) that the model reads with no
sure answer. A clear face saturates the int8 output (six scores at -128), which would hide
a runtime that is wrong about everything but the winner.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.assets import asset_path
from edge.classify import golden
from edge.classify.config import ClassifierConfig
from edge.classify.tflite import TfliteEmotionClassifier
from edge.detect import open_detector
from edge.detect.config import default_detector_config
from edge.errors import EdgeError
from edge.model_contract import sidecar_path
from edge.ports import Frame


def golden_faces(classifier: TfliteEmotionClassifier) -> list[tuple[str, np.ndarray]]:
    """(name, the model's input tensor) for the largest face of each photo variant."""
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
            inputs.append((name, classifier.preprocess(image, box)))
        face = inputs[0][1][:, :, 0]
        side = face.shape[0]
        inputs += [("astronaut-upside-down", cv2.rotate(face, cv2.ROTATE_180)),
                   ("astronaut-top-half", cv2.resize(face[: side * 7 // 12], face.shape[::-1])),
                   ("astronaut-bottom-half", cv2.resize(face[side * 5 // 12:], face.shape[::-1]))]
        return [(name, classifier.input_tensor(f.reshape((*face.shape, 1))))
                for name, f in inputs]
    finally:
        detector.close()


def write_golden(model: Path, *, is_xnnpack_enabled: bool = True) -> dict[str, Any]:
    """Record the vectors with this machine's runtime (the other kernel set measures each
    vector's tolerance), rewrite only the sidecar's `golden` block, then load the model as
    the daemon will, which runs them. Returns the block."""
    cfg = ClassifierConfig(model_path=model, averaging="none",
                           is_xnnpack_enabled=is_xnnpack_enabled)
    other_kernels = cfg.model_copy(update={"is_xnnpack_enabled": not is_xnnpack_enabled})
    classifier = TfliteEmotionClassifier(cfg, is_golden_checked=False)
    reference = TfliteEmotionClassifier(other_kernels, is_golden_checked=False)
    try:
        block = golden.record(classifier.interpreter, golden_faces(classifier),
                              classifier.contract.sha256, classifier.runtime,
                              reference=reference.interpreter)
    finally:
        classifier.close()
        reference.close()
    where = sidecar_path(model)
    sidecar = json.loads(where.read_text(encoding="utf-8"))
    sidecar["golden"] = block
    partial = where.resolve().with_name(where.name + ".partial")
    partial.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    partial.replace(where.resolve())  # models/ links into edge/assets: keep the link
    TfliteEmotionClassifier(cfg).close()
    return block
