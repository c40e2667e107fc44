"""trainer.plots and trainer.markdown on hand-made metrics: no TensorFlow, real matplotlib."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from trainer.data import LABELS, Split
from trainer.markdown import render_markdown, write_markdown
from trainer.metrics import classification_metrics
from trainer.plots import (
    CONFUSION_MATRIX,
    PLOT_FILES,
    TRAINING_CURVES,
    TRAINING_VIOLINS,
    face_mosaic,
    read_history,
    write_plots,
)

HEADER = "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\n"


def _report() -> dict[str, Any]:
    y = np.repeat(np.arange(7), 10)
    pred = y.copy()
    pred[::5] = 0  # every fifth face predicted "angry"
    part = classification_metrics(y, pred)
    part["clean"] = {"accuracy": float("nan"), "n": 0}  # what evaluate gives with no clean face
    part["flip_tta_accuracy"] = 0.5
    return {"labels": list(LABELS), "PublicTest": part, "PrivateTest": part}


def _split() -> Split:
    rng = np.random.default_rng(0)
    labels = np.array([0] * 3 + [3] * 12 + [6] * 5, np.uint8)  # most classes empty
    return Split(rng.integers(0, 256, (len(labels), 48, 48), dtype=np.uint8), labels)


def _history(path: Path, epochs: int) -> None:
    rows = [f"{e},{0.3 + 0.01 * e},0.001,{1.8 - 0.02 * e},{0.28 + 0.02 * e},{1.9 - 0.01 * e}"
            for e in range(epochs)]
    path.write_text(HEADER + "\n".join(rows) + "\n")


@pytest.mark.parametrize("epochs", [3])  # 1 epoch: see test_train_e2e
def test_all_plots_and_the_markdown_are_written(tmp_path: Path, epochs: int) -> None:
    _history(tmp_path / "history.csv", epochs)
    (tmp_path / "train.json").write_text(json.dumps({
        "data": {"source": "fer.npz", "dropped_duplicates": 1168}, "macs": 21_600_000,
        "params": 512_000, "epochs_run": epochs, "train_seconds": 95.5,
        "images_per_second": 812.3}))
    written = write_plots(_report(), _split(), tmp_path)
    assert written == [tmp_path / name for name in PLOT_FILES]
    for name in PLOT_FILES:
        assert cv2.imread(str(tmp_path / name)) is not None, name
    assert not (tmp_path / "report.md").exists()  # pictures only: the Markdown is next
    write_markdown(_report(), _split(), tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "PrivateTest accuracy 82.9%" in report  # 58 of 70 right
    assert "21.6 M MACs per face, 512,000 parameters" in report and "812 images/s" in report
    assert "dropped 1,168 redundant exact copies" in report and "clean part n/a" in report
    assert "| happy | 100.0% | 80.0% | 88.9% | 10 |" in report
    assert all(f"]({name})" in report for name in PLOT_FILES)


def test_missing_history_skips_only_the_epoch_plots(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="trainer.plots"):
        write_plots(_report(), _split(), tmp_path)
    write_markdown(_report(), _split(), tmp_path)
    assert not (tmp_path / TRAINING_CURVES).exists() and not (tmp_path / TRAINING_VIOLINS).exists()
    assert (tmp_path / CONFUSION_MATRIX).is_file()
    assert sum("history.csv is missing" in r.getMessage() for r in caplog.records) == 2
    report = (tmp_path / "report.md").read_text()
    assert TRAINING_CURVES not in report and "n/a (no train.json)" in report


def test_read_history_keeps_numeric_columns(tmp_path: Path) -> None:
    (tmp_path / "history.csv").write_text(HEADER + "0,0.5,,1.5,0.4,1.6\n1,0.6,,1.4,0.5,1.5\n")
    history = read_history(tmp_path / "history.csv")
    assert sorted(history) == ["accuracy", "epoch", "loss", "val_accuracy", "val_loss"]
    np.testing.assert_allclose(history["val_accuracy"], [0.4, 0.5])
    (tmp_path / "empty.csv").write_text("")
    assert read_history(tmp_path / "empty.csv") == {} == read_history(tmp_path / "absent.csv")


def test_face_mosaic_puts_each_class_on_its_row() -> None:
    split = _split()
    mosaic = face_mosaic(split, len(LABELS), per_class=4)
    assert mosaic.shape == (7 * 50, 4 * 50)
    happy_row = {mosaic[150 + 0:150 + 48, c * 50:c * 50 + 48].tobytes() for c in range(4)}
    assert happy_row <= {img.tobytes() for img in split.images[split.labels == 3]}
    assert (mosaic[50:100] == 255).all()  # no disgust faces: a blank row
    assert len({mosaic[0:48, c * 50:c * 50 + 48].tobytes() for c in range(3)}) == 3


@pytest.mark.parametrize(("report", "summary", "expected"), [
    ({"trained_precision": "mixed_bfloat16"},
     {"precision": "mixed_bfloat16", "config": {"precision": "auto"}},
     "- Precision: trained under mixed_bfloat16 (asked: `--precision auto`); the figures "
     "here are computed under it, the converter's in float32"),
    ({}, {"precision": "float32", "config": {"precision": "float32"}},
     "- Precision: trained under float32"),  # an older metrics.json: train.json says
    ({}, {}, "- Precision: trained under n/a"),
])
def test_the_report_names_the_precision_of_training(
        tmp_path: Path, report: dict[str, Any], summary: dict[str, Any], expected: str) -> None:
    (tmp_path / "train.json").write_text(json.dumps(summary))
    text = render_markdown({**_report(), **report}, _split(), tmp_path)
    assert expected in text.splitlines()
