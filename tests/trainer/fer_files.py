"""Tiny FER2013 look-alikes written to disk in the three forms the trainer reads.

Faces come from `tests.fixtures.models.synthetic_faces` (class k: a brightness level plus a
bar at a class-specific row), so a tiny CNN can learn them in one epoch.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from tests.fixtures.models import synthetic_faces
from trainer.data import LABELS, SPLITS
from trainer.ferplus import TO_OURS


def make_fer(train_per_class: int = 8, test_per_class: int = 2,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images, labels, usage) with every class in every split; no face repeats."""
    parts = [synthetic_faces(train_per_class, seed=seed),
             synthetic_faces(test_per_class, seed=seed + 1),
             synthetic_faces(test_per_class, seed=seed + 2)]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    usage = np.concatenate([np.full(len(p[1]), i, dtype=np.uint8) for i, p in enumerate(parts)])
    return images, labels, usage


def write_npz(path: Path, images: np.ndarray, labels: np.ndarray, usage: np.ndarray) -> Path:
    np.savez_compressed(path, images=images, labels=labels, usage=usage)
    return path


def write_csv(path: Path, images: np.ndarray, labels: np.ndarray, usage: np.ndarray) -> Path:
    """Kaggle's fer2013.csv layout: emotion,pixels,Usage with space-separated pixels."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["emotion", "pixels", "Usage"])
        for image, label, use in zip(images, labels, usage, strict=True):
            writer.writerow([int(label), " ".join(map(str, image.ravel())), SPLITS[use]])
    return path


def write_folders(root: Path, images: np.ndarray, labels: np.ndarray, usage: np.ndarray,
                  suffix: str = ".png") -> Path:
    """Kaggle's image layout: train/<emotion>/Training_<i>, test/<emotion>/P*Test_<i>."""
    for i, (image, label, use) in enumerate(zip(images, labels, usage, strict=True)):
        folder = root / ("train" if use == 0 else "test") / LABELS[label]
        folder.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(folder / f"{SPLITS[use]}_{i}{suffix}"), image)
    return root


def write_tiny_with_votes(root: Path) -> tuple[Path, Path]:
    """tiny.npz and ferplus.npz in root: 8 faces per class in Training, 4 per test split;
    7 annotators agree with the label, 3 say neutral (the crowd's pull that the calibration
    has to take back)."""
    images, labels, usage = make_fer(train_per_class=8, test_per_class=4)
    votes = np.zeros((len(labels), 10), np.uint8)
    votes[np.arange(len(labels)), TO_OURS[labels]] += 7
    votes[:, TO_OURS[6]] += 3
    data = write_npz(root / "tiny.npz", images, labels, usage)
    np.savez(root / "ferplus.npz", votes=votes)
    return data, root / "ferplus.npz"
