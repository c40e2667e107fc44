"""Face-detector settings: faces found (by face size), false faces and CPU time per frame.

    python scripts/bench_detector.py [--faces 200] [--data ../shared/data/fer2013.npz]

PrivateTest faces are upscaled to 64-160 px, given a border, and pasted at random places
into cluttered 640x480 frames (harder than a person facing the camera: FER crops are tight
and blurry). Each setting sees the same frames; CPU time is thread time on one thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.config import DetectorConfig
from edge.detect.haar import HaarFaceDetector
from edge.ports import Frame

SIZES = (64, 96, 128, 160)


def _cascade(name: str) -> Path:
    return Path(cv2.data.haarcascades) / f"haarcascade_frontalface_{name}.xml"


SETTINGS = {
    "fer-like: default cascade, full res, 1.1, 5 votes": DetectorConfig(
        cascade_path=_cascade("default"), detect_width_px=10_000, scale_factor=1.1,
        min_neighbors=5),
    "v0.1: default cascade, 320 px, 1.15, 5 votes": DetectorConfig(
        cascade_path=_cascade("default"), detect_width_px=320, scale_factor=1.15,
        min_neighbors=5),
    "default cascade, 320 px, 1.2, min 64, 4 votes": DetectorConfig(
        cascade_path=_cascade("default"), detect_width_px=320, min_face_px=64,
        min_neighbors=4),
    "alt cascade, 320 px, 1.15, 3 votes": DetectorConfig(
        cascade_path=_cascade("alt"), detect_width_px=320, scale_factor=1.15, min_neighbors=3),
    "alt2, 320 px, 1.15, 3 votes": DetectorConfig(
        detect_width_px=320, scale_factor=1.15, min_neighbors=3),
    "alt2, 320 px, 1.2, 3 votes": DetectorConfig(detect_width_px=320, min_neighbors=3),
    "alt2, 256 px, 1.2, 3 votes": DetectorConfig(min_neighbors=3),
    "alt2, 256 px, 1.2, 2 votes (the default)": DetectorConfig(),
    "alt2, 256 px, 1.25, 2 votes": DetectorConfig(scale_factor=1.25),
}


def make_frames(data: Path, n: int, seed: int = 0) -> list[tuple[np.ndarray, tuple, int]]:
    with np.load(data) as d:
        faces = d["images"][d["usage"] == 2]
    rng = np.random.default_rng(seed)
    frames = []
    for i, k in enumerate(rng.choice(len(faces), n, replace=False)):
        side = SIZES[i % len(SIZES)]
        face = cv2.resize(faces[k], (side, side), interpolation=cv2.INTER_CUBIC)
        pad = side // 4
        face = cv2.copyMakeBorder(face, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        clutter = rng.integers(60, 200, (60, 80), dtype=np.uint8)
        canvas = cv2.resize(clutter, (640, 480), interpolation=cv2.INTER_LINEAR)
        x = int(rng.integers(0, 640 - face.shape[1]))
        y = int(rng.integers(0, 480 - face.shape[0]))
        canvas[y:y + face.shape[0], x:x + face.shape[1]] = face
        frames.append((cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR), (x + pad, y + pad, side, side),
                       side))
    return frames


def iou(a: tuple, b: tuple) -> float:
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--faces", type=int, default=200)
    p.add_argument("--data", type=Path,
                   default=Path(__file__).resolve().parents[2] / "shared/data/fer2013.npz")
    args = p.parse_args()
    cv2.setNumThreads(1)
    frames = make_frames(args.data, args.faces)
    print(f"| setting | found, all | {' | '.join(f'found, {s} px' for s in SIZES)} "
          "| false faces | detect CPU median ms |")
    print("|---" * (4 + len(SIZES)) + "|")
    for name, cfg in SETTINGS.items():
        detector = HaarFaceDetector(cfg)
        found = {s: 0 for s in SIZES}
        false_faces, cpu = 0, []
        for image, truth, side in frames:
            t0 = time.thread_time()
            boxes = detector.detect(Frame(image, "bench", 0.0))
            cpu.append((time.thread_time() - t0) * 1000)
            hits = [b for b in boxes if iou((b.x, b.y, b.w, b.h), truth) > 0.3]
            found[side] += bool(hits)
            false_faces += len(boxes) - len(hits)
        per_size = len(frames) // len(SIZES)
        cells = " | ".join(f"{found[s] / per_size:.2f}" for s in SIZES)
        print(f"| {name} | {sum(found.values()) / len(frames):.2f} | {cells} | {false_faces} "
              f"| {np.median(cpu):.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
