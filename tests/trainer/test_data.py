"""trainer.data: the three loaders on tiny real files, their errors, cleaning, and the real set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.trainer.fer_files import make_fer, write_csv, write_folders, write_npz
from trainer.data import (
    LABELS,
    SPLITS,
    DataError,
    FerData,
    Split,
    clean_mask,
    clean_training,
    default_fer2013_path,
    limit_split,
    load_dataset,
)

FER = make_fer()


def _rows(data: FerData) -> set[tuple[bytes, int, str]]:
    return {(img.tobytes(), int(label), name) for name in SPLITS
            for img, label in zip(data.split(name).images, data.split(name).labels, strict=True)}


def _expected() -> set[tuple[bytes, int, str]]:
    return {(img.tobytes(), int(lab), SPLITS[u]) for img, lab, u in zip(*FER, strict=True)}


def test_default_dataset_is_the_variable_else_kaggles_csv_here() -> None:
    assert default_fer2013_path({}) == Path("fer2013.csv")
    assert default_fer2013_path({"EMOEDGE_FER2013": "/data/fer.npz"}) == Path("/data/fer.npz")


def test_labels_are_the_canonical_fer2013_order() -> None:
    assert LABELS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_npz_loader_keeps_arrays_and_splits(tmp_path: Path) -> None:
    data = load_dataset(write_npz(tmp_path / "fer.npz", *FER))
    images, labels, usage = FER
    for i, name in enumerate(SPLITS):
        split = data.split(name)
        assert split.images.dtype == np.uint8 and split.images.shape[1:] == (48, 48)
        np.testing.assert_array_equal(split.images, images[usage == i])
        np.testing.assert_array_equal(split.labels, labels[usage == i])
    assert (len(data.train), len(data.public), len(data.private)) == (56, 14, 14)


def test_csv_loader_reads_kaggle_layout(tmp_path: Path) -> None:
    data = load_dataset(write_csv(tmp_path / "fer2013.csv", *FER))
    assert _rows(data) == _expected()
    assert (len(data.train), len(data.public), len(data.private)) == (56, 14, 14)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_folder_loader_takes_split_from_prefix(tmp_path: Path, suffix: str) -> None:
    data = load_dataset(write_folders(tmp_path / "fer", *FER, suffix=suffix))
    assert (len(data.train), len(data.public), len(data.private)) == (56, 14, 14)
    if suffix == ".png":  # lossless: the very same pixels come back
        assert _rows(data) == _expected()
    else:
        assert {(int(lab), n) for _, lab, n in _rows(data)} == \
            {(int(lab), n) for _, lab, n in _expected()}


def test_folder_loader_without_prefix_uses_train_and_test(tmp_path: Path) -> None:
    root = write_folders(tmp_path / "fer", *FER)
    face = FER[0][0]
    cv2.imwrite(str(root / "train" / "happy" / "im0.png"), face)
    cv2.imwrite(str(root / "test" / "happy" / "im1.png"), face)
    (root / "train" / "happy" / "notes.txt").write_text("not an image: skipped")
    data = load_dataset(root)
    assert (len(data.train), len(data.public), len(data.private)) == (57, 14, 15)


def _npz(**override: np.ndarray) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        images, labels, usage = FER
        arrays = {"images": images, "labels": labels, "usage": usage, **override}
        np.savez(tmp / "fer.npz", **arrays)
        return tmp / "fer.npz"
    return make


def _npz_without_usage(tmp: Path) -> Path:
    np.savez(tmp / "fer.npz", images=FER[0], labels=FER[1])
    return tmp / "fer.npz"


def _text(name: str, content: str | bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path
    return make


ROW = " ".join(["7"] * 2304)
NPZ_ERRORS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing file": (lambda tmp: tmp / "nope.npz", "dataset not found"),
    "unknown format": (_text("fer.txt", "hello"), "unknown dataset format"),
    "npz missing array": (_npz_without_usage, "missing array"),
    "npz not a zip": (_text("fer.npz", b"garbage"), "not a readable .npz"),
    "npz wrong image size": (_npz(images=np.zeros((84, 40, 40), np.uint8)), "must be 48x48"),
    "npz label out of range": (_npz(labels=np.full(84, 7, np.uint8)), "labels must lie in 0..6"),
    "npz usage out of range": (_npz(usage=np.full(84, 3, np.uint8)), "usage values"),
    "npz float pixels": (_npz(images=FER[0] / 255.0), "whole numbers"),
    "npz length mismatch": (_npz(labels=FER[1][:10]), "as many labels"),
    "npz empty split": (_npz(usage=np.minimum(FER[2], 1)), "split PrivateTest is empty"),
    "csv missing column": (_text("f.csv", "emotion,pixels\n0,1\n"), "missing column(s) ['Usage']"),
    "csv wrong pixel count": (_text("f.csv", "emotion,pixels,Usage\n0,1 2 3,Training\n"),
                              "f.csv:2: 3 pixels, expected 2304"),
    "csv not numbers": (_text("f.csv", f"emotion,pixels,Usage\nhappy,{ROW},Training\n"),
                        "f.csv:2: emotion and pixels must be whole numbers"),
    "csv pixel above 255": (_text("f.csv", "emotion,pixels,Usage\n0,"
                                  + " ".join(["300"] * 2304) + ",Training\n"),
                            "pixel values must lie in 0..255"),
    "csv negative label": (_text("f.csv", f"emotion,pixels,Usage\n-1,{ROW},Training\n"),
                           "labels must lie in 0..6"),
    "csv unknown usage": (_text("f.csv", f"emotion,pixels,Usage\n0,{ROW},Validation\n"),
                          "unknown Usage 'Validation'"),
    "csv no rows": (_text("f.csv", "emotion,pixels,Usage\n"), "no rows"),
    "csv only training": (_text("f.csv", f"emotion,pixels,Usage\n0,{ROW},Training\n"),
                          "split PublicTest is empty"),
    "csv binary": (_text("f.csv", b"\xff\xfe\x00\x81garbage"), "not a readable CSV"),
}


@pytest.mark.parametrize("case", NPZ_ERRORS)
def test_file_errors_say_what_and_where(tmp_path: Path, case: str) -> None:
    make, message = NPZ_ERRORS[case]
    path = make(tmp_path)
    with pytest.raises(DataError) as info:
        load_dataset(path)
    assert message in str(info.value)
    assert str(path) in str(info.value) or path.name in str(info.value)


def _folder_case(tmp: Path, case: str) -> Path:
    root = write_folders(tmp / "fer", *FER)
    happy = root / "train" / "happy"
    if case == "unknown class folder":
        (root / "train" / "joy").mkdir()
    elif case == "wrong image size":
        cv2.imwrite(str(happy / "Training_big.png"), np.zeros((64, 64), np.uint8))
    elif case == "unreadable image":
        (happy / "Training_bad.jpg").write_bytes(b"not a jpeg")
    elif case == "missing test folder":
        for file in (root / "test").rglob("*.png"):
            file.unlink()
        for folder in sorted((root / "test").glob("*"), reverse=True):
            folder.rmdir()
        (root / "test").rmdir()
    elif case == "no images":
        for file in root.rglob("*.png"):
            file.unlink()
    elif case == "empty split":
        for file in (root / "test").rglob("PublicTest_*.png"):
            file.unlink()
    return root


FOLDER_ERRORS = {
    "unknown class folder": "joy: unknown class folder",
    "wrong image size": "Training_big.png: image is 64x64, need 48x48",
    "unreadable image": "Training_bad.jpg: not a readable image",
    "missing test folder": "test/ missing",
    "no images": "no images found",
    "empty split": "split PublicTest is empty",
}


@pytest.mark.parametrize("case", FOLDER_ERRORS)
def test_folder_errors_say_what_and_where(tmp_path: Path, case: str) -> None:
    root = _folder_case(tmp_path, case)
    with pytest.raises(DataError, match=FOLDER_ERRORS[case].replace(".", r"\.")):
        load_dataset(root)


def _crafted_training() -> tuple[Split, list[int]]:
    """3 copies of A, B with conflicting labels, 2 identical black faces, 5 unique faces."""
    faces, labels = make_fer(train_per_class=1, test_per_class=0)[:2]
    a, b, black = faces[0], faces[1], np.zeros((48, 48), np.uint8)
    images = [a, a, a, b, b, black, black, *faces[2:7]]
    label = [3, 3, 3, 1, 4, 0, 0, *labels[2:7]]
    keep = [0, 7, 8, 9, 10, 11]  # first copy of A, then the unique faces
    return Split(np.stack(images), np.array(label, np.uint8)), keep


def test_clean_training_counts_duplicates_conflicts_and_black() -> None:
    train, keep = _crafted_training()
    cleaned, notes = clean_training(train)
    assert notes == {"dropped_duplicates": 3, "dropped_conflicting": 2, "dropped_black": 1,
                     "kept": 6}
    np.testing.assert_array_equal(cleaned.images, train.images[keep])
    np.testing.assert_array_equal(cleaned.labels, train.labels[keep])


def test_clean_mask_marks_test_faces_with_no_copy_in_training() -> None:
    train, _ = _crafted_training()
    others = make_fer(train_per_class=1, test_per_class=0, seed=5)[0][:3]
    test = Split(np.stack([train.images[0], train.images[9], *others]),
                 np.zeros(5, np.uint8))
    np.testing.assert_array_equal(clean_mask(test, train), [False, False, True, True, True])


def test_limit_split_is_seeded_and_whole_without_limit() -> None:
    split = Split(FER[0], FER[1])
    assert limit_split(split, None, 1) is split and limit_split(split, 10**6, 1) is split
    a, b, c = (limit_split(split, 20, seed) for seed in (1, 1, 2))
    assert len(a) == 20
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)


@pytest.mark.dataset
def test_real_fer2013_split_counts_and_overlap(fer2013_path: Path) -> None:
    data = load_dataset(fer2013_path)
    assert (len(data.train), len(data.public), len(data.private)) == (28_709, 3_589, 3_589)
    assert np.bincount(data.train.labels).tolist() == [3995, 436, 4097, 7215, 4830, 3171, 4965]
    # the data README: 280 PublicTest and 288 PrivateTest faces have a copy in Training
    assert int((~clean_mask(data.public, data.train)).sum()) == 280
    assert int((~clean_mask(data.private, data.train)).sum()) == 288
