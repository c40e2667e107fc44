"""Face detectors on real photos: recall, false detections and detect time, side by side.

    python -m benchmarks --only detector [--photos DIR] [--rounds 10]

Each annotated photo (`boxes.json`: file -> [[x, y, w, h], ...]) is fitted into a 640x480
frame (scaled to fit, centred on gray), its boxes with it. A face is found when a detection
overlaps it with IoU >= 0.4; a detection that overlaps no annotated face is false.
`dogs.jpg`, if present, has no human face: all its detections are false. Time is the median
detect call per frame on one OpenCV thread (CPU time of the calling thread, and wall time);
the settings take turns frame by frame so machine load hits them alike. Every detector is
opened with `open_detector`, as the daemon opens it. Synthetic faces pasted into clutter
flatter Haar threefold: judge detectors here.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge.detect import open_detector
from edge.detect.config import DetectorConfig, HaarDetectorConfig, YunetDetectorConfig
from edge.ports import FaceDetector, Frame
from edge.sources.images import letterbox

FRAME = (640, 480)
IOU_FOUND = 0.4
BIG_PX = 48
NO_FACE = "dogs.jpg"
PHOTOS_ENV = "EMOEDGE_FACES_DEV"


PHOTOS_HELP = ("a folder of photos with their face boxes in boxes.json (file name -> [[x, y, w, "
               "h], ...]; the photos are not in the repository): pass --photos DIR or set "
               f"${PHOTOS_ENV}")


def default_photos() -> Path:
    """$EMOEDGE_FACES_DEV, else ./faces-dev in the working directory."""
    return Path(os.environ.get(PHOTOS_ENV) or "faces-dev")


def _yunet(w: int, h: int, score: float = 0.7) -> YunetDetectorConfig:
    return YunetDetectorConfig(detect_width_px=w, detect_height_px=h, score_threshold=score)


SETTINGS: dict[str, DetectorConfig] = {
    "Haar alt2, 256 px, 1.2, 2 votes, min 48 px (v0.2 default)": HaarDetectorConfig(),
    "Haar alt2, 320 px, 1.15, 3 votes, min 48 px": HaarDetectorConfig(
        detect_width_px=320, scale_factor=1.15, min_neighbors=3),
    "YuNet 640x480, score 0.7": _yunet(640, 480),
    "YuNet 480x360, score 0.7": _yunet(480, 360),
    "YuNet 320x240, score 0.6": _yunet(320, 240, 0.6),
    "YuNet 320x240, score 0.7 (default)": _yunet(320, 240),
    "YuNet 320x240, score 0.8": _yunet(320, 240, 0.8),
}

Box = tuple[float, float, float, float]


@dataclass
class Score:
    """One setting's tally over the photos."""

    found: int = 0
    found_big: int = 0
    false: int = 0
    false_no_face: int = 0
    cpu_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)


def fit(image: np.ndarray, boxes: list[Box]) -> tuple[np.ndarray, list[Box]]:
    """`image` letterboxed into the frame (up or down, centred on gray); boxes moved with it."""
    boxed = letterbox(image, *FRAME)
    return boxed.image, [boxed.box(*b) for b in boxes]


def iou(a: Box, b: Box) -> float:
    w = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


Photo = tuple[str, np.ndarray, list[Box]]  # file name, fitted frame, boxes in that frame


def load(photos: Path) -> list[Photo]:
    truth: dict[str, list[Box]] = json.loads((photos / "boxes.json").read_text())
    if (photos / NO_FACE).is_file():
        truth.setdefault(NO_FACE, [])
    frames = []
    for name, boxes in sorted(truth.items()):
        image = cv2.imread(str(photos / name))
        if image is None:
            raise SystemExit(f"cannot read {photos / name}")
        frames.append((name, *fit(image, [tuple(b) for b in boxes])))  # type: ignore[misc]
    return frames


def tally(score: Score, name: str, detector: FaceDetector, image: np.ndarray,
          truth: list[Box]) -> None:
    t0, c0 = time.perf_counter(), time.thread_time()
    boxes = detector.detect(Frame(image, name, 0.0))
    score.cpu_ms.append((time.thread_time() - c0) * 1000)
    score.wall_ms.append((time.perf_counter() - t0) * 1000)
    found = [(b.x, b.y, b.w, b.h) for b in boxes]
    for face in truth:
        if any(iou(face, b) >= IOU_FOUND for b in found):
            score.found += 1
            score.found_big += face[2] >= BIG_PX
    false = sum(all(iou(b, face) < IOU_FOUND for face in truth) for b in found)
    if name == NO_FACE:
        score.false_no_face += false
    else:
        score.false += false


def lines(args: argparse.Namespace) -> Iterator[str]:
    """The Markdown table for `args.photos` (None: `default_photos()`) over `args.rounds`
    timed rounds, row by row."""
    cv2.setNumThreads(1)
    frames = load(args.photos or default_photos())
    annotated = [f for f in frames if f[0] != NO_FACE]
    with ExitStack() as stack:
        detectors = {name: stack.enter_context(open_detector(cfg))
                     for name, cfg in SETTINGS.items()}
        yield from _table(args, frames, annotated, detectors)


def _table(args: argparse.Namespace, frames: list[Photo], annotated: list[Photo],
           detectors: dict[str, FaceDetector]) -> Iterator[str]:
    """Times every detector over `frames` and yields the Markdown table."""
    n_all = sum(len(t) for _, _, t in annotated)
    n_big = sum(t[2] >= BIG_PX for _, _, t_list in annotated for t in t_list)
    scores = {name: Score() for name in SETTINGS}
    for round_ in range(args.rounds + 1):  # round 0 counts faces and warms up
        for name, image, truth in frames:
            for setting, detector in detectors.items():
                score = scores[setting] if round_ == 0 else Score()
                tally(score, name, detector, image, truth)
                if round_:
                    scores[setting].cpu_ms += score.cpu_ms
                    scores[setting].wall_ms += score.wall_ms
    base = float(np.median(next(iter(scores.values())).cpu_ms[len(frames):]))
    yield (f"{len(annotated)} photos, {n_all} faces ({n_big} >= {BIG_PX} px) fitted into "
           f"{FRAME[0]}x{FRAME[1]}; IoU >= {IOU_FOUND}; {args.rounds} timed rounds, 1 thread")
    yield ""
    yield (f"| setting | recall, all {n_all} | recall, >= {BIG_PX} px ({n_big}) | "
           "false per photo | false on dogs | detect CPU median ms | wall median ms | "
           "CPU vs Haar default |")
    yield "|---|---|---|---|---|---|---|---|"
    for setting, s in scores.items():
        cpu = float(np.median(s.cpu_ms[len(frames):]))
        wall = float(np.median(s.wall_ms[len(frames):]))
        yield (f"| {setting} | {s.found / n_all:.2f} | {s.found_big / n_big:.2f} | "
               f"{s.false / len(annotated):.2f} | {s.false_no_face} | {cpu:.1f} | {wall:.1f} | "
               f"{cpu / base:.2f}x |")
