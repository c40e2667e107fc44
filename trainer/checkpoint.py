"""The run folder's checkpoint: the format `--resume` reads, a contract with runs in flight.

After every epoch `checkpoint/` holds `last.keras` (the model with its optimizer: moments,
step count, hence the schedule) and `state.json` (the epoch reached, the best so far, each
epoch's seconds); `run.json`, written once at the start, holds the config and the dataset
path. The run folder also gets `history.csv` (one row an epoch) and `model.keras` (the best
epoch). A run begun by an older trainer must resume: `saved_run` still reads every older
run.json (tests/trainer/test_resume_contract.py holds a run checkpointed before issue 34).
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import TypedDict

import keras
import numpy as np

from trainer.config import TrainConfig

CHECKPOINT = "checkpoint"


class RunState(TypedDict):
    """What checkpoint/state.json carries from one epoch to the next."""

    epoch: int  # the last epoch done, -1 before the first
    best: float  # the best monitored value so far
    best_epoch: int
    epoch_seconds: list[float]  # training time of each epoch, validation left out


def saved_run(run_dir: Path) -> tuple[TrainConfig, Path]:
    """The config and dataset path of a run that `train` checkpointed, to resume it."""
    saved = json.loads((run_dir / CHECKPOINT / "run.json").read_text())
    config = dict(saved["config"])
    config["blocks"] = tuple(tuple(b) for b in config["blocks"])
    teachers = config.get("distill_from")  # one path or null in runs begun before issue 30
    config["distill_from"] = ((teachers,) if isinstance(teachers, str)
                              else tuple(teachers or ()))
    return TrainConfig(**config), Path(saved["data"])


def fresh_state() -> RunState:
    return {"epoch": -1, "best": -np.inf, "best_epoch": -1, "epoch_seconds": []}


def begin_run(run_dir: Path, cfg: TrainConfig, data_source: str) -> None:
    """A fresh run: its run.json, and no history left from an earlier run in the folder."""
    (run_dir / CHECKPOINT).mkdir(parents=True, exist_ok=True)
    (run_dir / "history.csv").unlink(missing_ok=True)
    (run_dir / CHECKPOINT / "run.json").write_text(json.dumps({"config": asdict(cfg),
                                                               "data": data_source}, indent=2))


def read_state(run_dir: Path) -> RunState:
    """The state to resume from; history rows past its epoch are dropped (a run stopped
    between an epoch's history row and its checkpoint runs that epoch again)."""
    state: RunState = json.loads((run_dir / CHECKPOINT / "state.json").read_text())
    _trim_history(run_dir / "history.csv", state["epoch"])
    return state


def _trim_history(path: Path, last_epoch: int) -> None:
    if not path.exists():
        return
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    kept = [row for row in rows if int(row["epoch"]) <= last_epoch]
    if len(kept) < len(rows):
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(kept)


def end_epoch(run_dir: Path, model: keras.Model, state: RunState, epoch: int,
              logs: dict[str, float], monitor: str) -> None:
    """Record a finished epoch: its history row, the best model when it is the best so far,
    then the checkpoint (the model first, the state naming it last)."""
    append_history(run_dir / "history.csv", epoch, logs)
    if logs[monitor] > state["best"]:
        state["best"], state["best_epoch"] = float(logs[monitor]), epoch
        save_atomically(model, run_dir / "model.keras")
    state["epoch"] = epoch
    save_atomically(model, run_dir / CHECKPOINT / "last.keras")
    (run_dir / CHECKPOINT / "state.json").write_text(json.dumps(state))


def save_atomically(model: keras.Model, path: Path) -> None:
    """A kill mid-save leaves the previous file whole (Keras writes in place)."""
    partial = path.with_name(path.stem + ".partial" + path.suffix)
    model.save(partial)
    partial.replace(path)


def append_history(path: Path, epoch: int, logs: dict[str, float]) -> None:
    row = {"epoch": epoch, **{k: round(float(v), 6) for k, v in sorted(logs.items())}}
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
