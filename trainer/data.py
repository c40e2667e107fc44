"""FER2013 loading: the three forms people have it in, one `FerData` out.

Labels are defined here once, in the canonical FER2013 order. Every loader returns
raw uint8 48x48 faces; scaling lives inside the model, never here.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trainer.errors import DataError as DataError  # also importable from here, as before

LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SPLITS: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
FACE_SIZE = 48
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".pgm")
_PREFIX = re.compile(r"^(Training|PublicTest|PrivateTest)_")
FER2013_ENV = "EMOEDGE_FER2013"
DATA_HELP = ("FER2013 does not ship with emotion-edge: download fer2013.csv (Kaggle, \"Challenges "
             "in Representation Learning: Facial Expression Recognition Challenge\") or the "
             "msambare/fer2013 image folders, or make an .npz of images (n, 48, 48) uint8, labels "
             "0-6 and usage 0-2 (docs/training.md), then pass --data or set " + FER2013_ENV)


def default_fer2013_path(environ: Mapping[str, str] | None = None) -> Path:
    """The dataset read when no --data is given (trainer, converter, benchmarks, tests):
    $EMOEDGE_FER2013, else Kaggle's `fer2013.csv` in the working directory."""
    env = os.environ if environ is None else environ
    return Path(env.get(FER2013_ENV) or "fer2013.csv")


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # uint8 (n, 48, 48)
    labels: np.ndarray  # uint8 (n,)
    votes: np.ndarray | None = None  # FER+ vote counts (n, 10), when attached (ferplus.py)

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, mask_or_index: np.ndarray) -> Split:
        votes = None if self.votes is None else self.votes[mask_or_index]
        return Split(self.images[mask_or_index], self.labels[mask_or_index], votes)


@dataclass(frozen=True)
class FerData:
    train: Split
    public: Split
    private: Split
    source: str
    notes: dict[str, int] = field(default_factory=dict)

    def split(self, name: str) -> Split:
        return {"Training": self.train, "PublicTest": self.public, "PrivateTest": self.private}[
            name
        ]


def load_dataset(path: str | Path) -> FerData:
    """Load FER2013 from an .npz, Kaggle's fer2013.csv or a train/test image-folder tree."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"dataset not found: {path}. {DATA_HELP}")
    if path.is_dir():
        data = _load_folders(path)
    elif path.suffix == ".npz":
        data = _load_npz(path)
    elif path.suffix == ".csv":
        data = _load_csv(path)
    else:
        raise DataError(f"unknown dataset format: {path} (expected .npz, .csv or a folder)")
    for name in SPLITS:
        if len(data.split(name)) == 0:
            raise DataError(f"{path}: split {name} is empty (FER2013 needs Training, PublicTest "
                            "and PrivateTest faces; image folders name them with the "
                            "Training_/PublicTest_/PrivateTest_ file-name prefixes)")
    return data


def _check_images(images: np.ndarray, where: str) -> None:
    if images.ndim != 3 or images.shape[1:] != (FACE_SIZE, FACE_SIZE):
        raise DataError(f"{where}: images must be 48x48, got shape {images.shape[1:]}")


def _check_range(values: np.ndarray, top: int, what: str, src: str) -> None:
    """Integer values in 0..top; the uint8 arrays of a good .npz pass without a copy."""
    if not values.size:
        return
    if values.dtype.kind not in "ui" and not np.array_equal(values, np.round(values)):
        raise DataError(f"{src}: {what} must be whole numbers 0..{top}, got fractions")
    low, high = values.min(), values.max()
    if low < 0 or high > top:
        raise DataError(f"{src}: {what} must lie in 0..{top}, found {low}..{high}")


def _from_arrays(images: np.ndarray, labels: np.ndarray, usage: np.ndarray, src: str) -> FerData:
    _check_images(images, src)
    if labels.shape != (len(images),) or usage.shape != (len(images),):
        raise DataError(f"{src}: {len(images)} images need as many labels and usage values, "
                        f"got shapes {labels.shape} and {usage.shape}")
    _check_range(images, 255, "pixel values", src)
    _check_range(labels, len(LABELS) - 1, "labels", src)
    _check_range(usage, len(SPLITS) - 1, "usage values (0 Training, 1 PublicTest, 2 PrivateTest)",
                 src)
    images, labels = images.astype(np.uint8), labels.astype(np.uint8)
    train, public, private = (Split(images[usage == i], labels[usage == i])
                              for i in range(len(SPLITS)))
    return FerData(train, public, private, source=src)


def _load_npz(path: Path) -> FerData:
    try:
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in ("images", "labels", "usage")}
    except KeyError as e:
        raise DataError(f"{path}: missing array {e} (need images, labels, usage)") from e
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from e
    return _from_arrays(arrays["images"], arrays["labels"], arrays["usage"], str(path))


def _load_csv(path: Path) -> FerData:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            images, labels, usage = _read_csv_rows(csv.DictReader(f), path)
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: not a readable CSV file ({e})") from e
    if not images:
        raise DataError(f"{path}: no rows")
    return _from_arrays(np.stack(images), np.array(labels), np.array(usage), str(path))


def _read_csv_rows(
    reader: csv.DictReader[str], path: Path
) -> tuple[list[np.ndarray], list[int], list[int]]:
    missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
    if missing:
        raise DataError(f"{path}: missing column(s) {sorted(missing)} (need emotion,pixels,Usage)")
    images, labels, usage = [], [], []
    for line, row in enumerate(reader, start=2):
        try:
            pixels = np.array((row["pixels"] or "").split(), dtype=np.int64)
            label = int(row["emotion"] or "")
        except ValueError as e:
            raise DataError(f"{path}:{line}: emotion and pixels must be whole numbers ({e})") from e
        if pixels.size != FACE_SIZE * FACE_SIZE:
            raise DataError(f"{path}:{line}: {pixels.size} pixels, expected 2304 (48x48)")
        if row["Usage"] not in SPLITS:
            raise DataError(f"{path}:{line}: unknown Usage {row['Usage']!r} (expected {SPLITS})")
        images.append(pixels.reshape(FACE_SIZE, FACE_SIZE))
        labels.append(label)
        usage.append(SPLITS.index(row["Usage"]))
    return images, labels, usage


def _load_folders(root: Path) -> FerData:
    import cv2  # only the folder loader needs OpenCV

    images, labels, usage = [], [], []
    for top in ("train", "test"):
        if not (root / top).is_dir():
            raise DataError(f"{root}: expected sub-folders train/ and test/ ({top}/ missing)")
        for class_dir in sorted(p for p in (root / top).iterdir() if p.is_dir()):
            if class_dir.name not in LABELS:
                raise DataError(f"{class_dir}: unknown class folder (expected one of {LABELS})")
            for file in sorted(class_dir.iterdir()):
                if file.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                img = cv2.imread(str(file), cv2.IMREAD_GRAYSCALE)
                if img is None:
                    raise DataError(f"{file}: not a readable image")
                if img.shape != (FACE_SIZE, FACE_SIZE):
                    raise DataError(f"{file}: image is {img.shape[1]}x{img.shape[0]}, need 48x48")
                images.append(img)
                labels.append(LABELS.index(class_dir.name))
                usage.append(_usage_of(file.name, top))
    if not images:
        raise DataError(f"{root}: no images found")
    return _from_arrays(np.stack(images), np.array(labels), np.array(usage), str(root))


def _usage_of(file_name: str, top: str) -> int:
    match = _PREFIX.match(file_name)
    if match:
        return SPLITS.index(match.group(1))
    return 0 if top == "train" else 2  # no prefix: test/ counts as the reported split


def _digest(image: np.ndarray) -> bytes:
    return hashlib.blake2b(image.tobytes(), digest_size=16).digest()


def clean_training(train: Split) -> tuple[Split, dict[str, int]]:
    """Drop all-black faces, redundant exact copies, and copies whose labels conflict."""
    groups: dict[bytes, list[int]] = defaultdict(list)
    for i, img in enumerate(train.images):
        groups[_digest(img)].append(i)
    keep, conflicting, redundant = [], 0, 0
    for members in groups.values():
        if len({int(train.labels[i]) for i in members}) > 1:
            conflicting += len(members)
            continue
        keep.append(members[0])
        redundant += len(members) - 1
    black = {i for i in keep if train.images[i].max() == 0}
    kept = np.array(sorted(set(keep) - black), dtype=np.int64)
    notes = {"dropped_duplicates": redundant, "dropped_conflicting": conflicting,
             "dropped_black": len(black), "kept": len(kept)}
    return train.take(kept), notes


def clean_mask(test: Split, train: Split) -> np.ndarray:
    """True for test faces with no exact copy in Training (the honest part of a test split)."""
    seen = {_digest(img) for img in train.images}
    return np.array([_digest(img) not in seen for img in test.images], dtype=bool)


def limit_split(split: Split, limit: int | None, seed: int) -> Split:
    """A stratified-enough random subset for quick runs; the whole split when limit is None."""
    if limit is None or limit >= len(split):
        return split
    index = np.random.default_rng(seed).permutation(len(split))[:limit]
    return split.take(np.sort(index))
