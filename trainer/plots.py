"""The report's pictures: PNGs in the run folder, drawn with matplotlib's Agg canvas.

`write_plots` is called by `trainer.report.write_report` once a run has its metrics. It
draws each picture on its own `Figure` (no pyplot, no global backend state), so it works
headless and from any thread. A picture that cannot be drawn is logged and skipped: the
metrics and the model of a long run are worth more than one plot. Pictures only: the
Markdown that embeds them is `trainer.markdown`'s.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from trainer.data import LABELS, Split

log = logging.getLogger(__name__)

CLASS_DISTRIBUTION = "class_distribution.png"
SAMPLE_FACES = "sample_faces.png"
TRAINING_CURVES = "training_curves.png"
TRAINING_VIOLINS = "training_violins.png"
CONFUSION_MATRIX = "confusion_matrix_private.png"
PLOT_FILES = (CLASS_DISTRIBUTION, SAMPLE_FACES, TRAINING_CURVES, TRAINING_VIOLINS,
              CONFUSION_MATRIX)
FACES_PER_CLASS = 8
FACE_PX = 48
GAP_PX = 2


def write_plots(report: dict[str, Any], train_split: Split, run_dir: Path) -> list[Path]:
    """Write the PNGs into run_dir (the history from run_dir/history.csv); returns those
    written."""
    run_dir.mkdir(parents=True, exist_ok=True)
    labels = list(report.get("labels", LABELS))
    history = read_history(run_dir / "history.csv")
    drawers: dict[str, Callable[[], Figure]] = {
        CLASS_DISTRIBUTION: lambda: class_distribution(train_split, labels),
        SAMPLE_FACES: lambda: sample_faces(train_split, labels),
        TRAINING_CURVES: lambda: training_curves(history),
        TRAINING_VIOLINS: lambda: training_violins(history),
        CONFUSION_MATRIX: lambda: confusion_matrix(report["PrivateTest"], labels),
    }
    written = []
    for name, draw in drawers.items():
        try:
            save(draw(), run_dir / name)
            written.append(run_dir / name)
        except Exception as e:  # a broken picture must not lose a finished run
            log.warning("%s not written: %s: %s", name, type(e).__name__, e)
    return written


def read_history(path: Path) -> dict[str, np.ndarray]:
    """Keras CSVLogger columns (epoch, accuracy, loss, val_*) as float arrays; {} if absent."""
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    columns: dict[str, np.ndarray] = {}
    for key in rows[0]:
        try:
            columns[key] = np.array([float(r[key]) for r in rows])
        except (TypeError, ValueError):
            continue  # a column Keras left blank or non-numeric
    return columns


def save(fig: Figure, path: Path) -> None:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=100)


def class_distribution(split: Split, labels: list[str]) -> Figure:
    counts = np.bincount(split.labels.astype(int), minlength=len(labels))[: len(labels)]
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    bars = ax.bar(labels, counts, color="tab:blue")
    ax.bar_label(bars, labels=[f"{c:,}" for c in counts], fontsize=8)
    ax.set(title=f"Training faces per class (n={len(split):,})", ylabel="faces")
    ax.margins(y=0.12)
    return fig


def face_mosaic(split: Split, n_classes: int, per_class: int, seed: int = 0) -> np.ndarray:
    """One gray image: a row of up to per_class random faces for each class, 2 px gaps."""
    cell = FACE_PX + GAP_PX
    mosaic = np.full((n_classes * cell, per_class * cell), 255, dtype=np.uint8)
    rng = np.random.default_rng(seed)
    for row in range(n_classes):
        index = np.flatnonzero(split.labels == row)
        chosen = rng.choice(index, min(per_class, len(index)), replace=False)
        for col, i in enumerate(chosen):
            mosaic[row * cell:row * cell + FACE_PX, col * cell:col * cell + FACE_PX] = \
                split.images[i]
    return mosaic


def sample_faces(split: Split, labels: list[str]) -> Figure:
    mosaic = face_mosaic(split, len(labels), FACES_PER_CLASS)
    fig = Figure(figsize=(FACES_PER_CLASS * 0.8 + 1.2, len(labels) * 0.8 + 0.6),
                 layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    cell = FACE_PX + GAP_PX
    ax.set_yticks([r * cell + FACE_PX / 2 for r in range(len(labels))], labels)
    ax.set_xticks([])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title("Sample training faces per class")
    return fig


def _need_history(history: dict[str, np.ndarray]) -> None:
    if "accuracy" not in history or "loss" not in history:
        raise ValueError("history.csv is missing or has no accuracy/loss columns")


def training_curves(history: dict[str, np.ndarray]) -> Figure:
    _need_history(history)
    epochs = history.get("epoch", np.arange(len(history["loss"]))) + 1
    fig = Figure(figsize=(10, 4), layout="constrained")
    for ax, metric in zip(fig.subplots(1, 2), ("accuracy", "loss"), strict=True):
        ax.plot(epochs, history[metric], marker="o", ms=3, label="train")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], marker="o", ms=3,
                    label="validation (PublicTest)")
        if "val_accuracy" in history:
            best = epochs[int(np.argmax(history["val_accuracy"]))]
            ax.axvline(best, color="grey", ls=":", label=f"best epoch {best:.0f}")
        ax.set(title=f"{metric} per epoch", xlabel="epoch", ylabel=metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def _violin_or_points(ax: Axes, series: list[np.ndarray], names: list[str]) -> None:
    """Violins need at least two different values; fewer epochs get plain points."""
    for pos, values in enumerate(series, start=1):
        if len(values) >= 2 and np.ptp(values) > 0:
            ax.violinplot([values], positions=[pos], showmedians=True)
        ax.plot(np.full(len(values), pos), values, "k.", alpha=0.5, ms=4)
    ax.set_xticks(range(1, len(series) + 1), names)


def training_violins(history: dict[str, np.ndarray]) -> Figure:
    _need_history(history)
    fig = Figure(figsize=(9, 4), layout="constrained")
    for ax, metric in zip(fig.subplots(1, 2), ("accuracy", "loss"), strict=True):
        keys = [k for k in (metric, f"val_{metric}") if k in history]
        names = ["validation" if k.startswith("val_") else "train" for k in keys]
        _violin_or_points(ax, [history[k] for k in keys], names)
        ax.set(title=f"per-epoch {metric}, epochs: {len(history[metric])}", ylabel=metric)
        ax.grid(alpha=0.3, axis="y")
    return fig


def confusion_matrix(split_report: dict[str, Any], labels: list[str]) -> Figure:
    cm = np.asarray(split_report["confusion_matrix"], dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    fig = Figure(figsize=(7, 6), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="share of the true class")
    for (i, j), value in np.ndenumerate(norm):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                color="white" if value > 0.5 else "black")
    ticks = range(len(labels))
    ax.set_xticks(ticks, labels, rotation=45, ha="right")
    ax.set_yticks(ticks, labels)
    accuracy = split_report.get("accuracy", float("nan"))
    ax.set(xlabel="predicted", ylabel="true",
           title=f"PrivateTest, normalised per true class (accuracy {accuracy:.1%})")
    return fig
