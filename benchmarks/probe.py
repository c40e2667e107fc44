"""Start-up probe for the benchmark: one side loads everything it needs and answers one frame.

`python -m benchmarks.probe edge --model M --image F` imports the daemon's modules, loads
the model and the default face detector, and classifies the frame; `... fer --image F`
imports `fer` and builds `FER()`, then runs `detect_emotions` on it. Either prints one JSON
line (peak RSS, faces found, whether TensorFlow was imported) and exits; the parent times
the process from spawn to that line. Run by the startup section (`versus_fer.py`), one
thread, as a separate process from the repository root.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import sys
from pathlib import Path

import cv2
import numpy as np

DAEMON_MODULES = ("edge.cli", "edge.app")  # what the daemon imports before its first frame


def _edge(model: Path, image: np.ndarray) -> int:
    from edge.classify.config import ClassifierConfig
    from edge.config import Settings

    for name in DAEMON_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:  # a module the daemon needs is missing: that is a failure
                raise
    from edge.classify import open_classifier
    from edge.detect import open_detector
    from edge.ports import Frame

    frame = Frame(image=image, source="probe", captured_at=0.0)
    with (open_detector(Settings().detector) as detector,
          open_classifier(ClassifierConfig(model_path=model, num_threads=1)) as classifier):
        boxes = detector.detect(frame)
        for box in boxes:
            classifier.classify(frame, box)
    return len(boxes)


def _fer(image: np.ndarray) -> int:
    from .peer import load_peer

    return len(load_peer(num_threads=1).detect_emotions(image))


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries that over from
    the parent across fork and exec, so a child of a big process reports the parent's size."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: best effort


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("side", choices=("edge", "fer"))
    parser.add_argument("--image", type=Path, required=True, help="frame to classify once")
    parser.add_argument("--model", type=Path, help="our .tflite (edge side)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    image = cv2.imread(str(args.image), cv2.IMREAD_COLOR)
    if image is None:
        parser.error(f"cannot read {args.image}")
    if args.side == "edge":
        if args.model is None:
            parser.error("edge needs --model")
        faces = _edge(args.model, image)
    else:
        faces = _fer(image)
    print(json.dumps({"side": args.side, "faces": faces, "peak_rss_mb": peak_rss_mb(),
                      "tensorflow": "tensorflow" in sys.modules}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
