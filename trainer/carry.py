"""Carry a run across working windows: a window keeps only what is committed.

A long run lives outside the work tree (`/work/runs/NAME`), and nothing outside the
repository outlives the window it ran in. At the end of a window, `save` copies what
`--resume` needs (the checkpoint, the best epoch's model, the history, the teachers'
cached scores) into `carried-runs/NAME/`, to be committed; at the start of the next,
`restore` lays it back where the run folder was, and the run resumes from there.

    emotion-train carry save /work/runs/t1-mix25-e200
    emotion-train carry restore --into /work/runs      # every carried run, where it is newer
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from trainer.errors import TrainerError

CARRIED = Path("carried-runs")
CHECKPOINT = "checkpoint"  # trainer.checkpoint's folder, named again: that module loads Keras
STATE = f"{CHECKPOINT}/state.json"
LAST, BEST = f"{CHECKPOINT}/last.keras", "model.keras"  # BEST: the best epoch's model
# What `--resume` reads, and what the end of a run needs. state.json goes last: it names
# the epoch the files before it hold.
FILES = (f"{CHECKPOINT}/run.json", LAST, BEST, "history.csv", "teacher_scores.npz", STATE)
# Written in place of BEST when the best epoch is the last one: the same weights, nothing
# more to commit. Otherwise BEST is carried without its optimizer (a third of LAST's size).
BEST_IS_LAST = "best-is-last"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("save", "restore"))
    p.add_argument("runs", nargs="*", type=Path, metavar="RUN",
                   help="save: the run folders to carry (each must have a checkpoint)")
    p.add_argument("--carried", type=Path, default=CARRIED,
                   help="the committed folder that carries the runs (default: %(default)s)")
    p.add_argument("--into", type=Path, default=Path("/work/runs"),
                   help="restore: where the run folders go (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    if args.action == "save":
        if not args.runs:
            raise TrainerError("carry save needs the run folders to carry, e.g. "
                               "`emotion-train carry save /work/runs/NAME`")
        for run_dir in args.runs:
            print(f"carried {run_dir} at epoch {save(run_dir, args.carried)}"
                  f" into {args.carried / run_dir.name}")
    else:
        for name, epoch in restore(args.carried, args.into).items():
            print(f"restored {args.into / name} at epoch {epoch}; resume it with "
                  f"`emotion-train --resume {args.into / name}`")
    return 0


def epoch_of(run_dir: Path) -> int:
    """The last finished epoch a run folder holds, -2 when it holds no checkpoint."""
    state = run_dir / STATE
    return int(json.loads(state.read_text())["epoch"]) if state.exists() else -2


def save(run_dir: Path, carried: Path) -> int:
    """Copy a run's resume files into `carried/NAME`; returns the epoch they hold."""
    if not (run_dir / STATE).exists():
        raise TrainerError(f"{run_dir} has no {STATE}: not a run folder, or no epoch has "
                           "finished yet")
    target = carried / run_dir.name
    for _attempt in range(3):  # an epoch may end mid-copy: copy again until it does not
        before = (run_dir / STATE).read_bytes()
        state = json.loads(before)
        is_best_last = state["best_epoch"] == state["epoch"]
        _copy(run_dir, target, skip=frozenset({BEST}))
        if not is_best_last:
            _without_optimizer(run_dir / BEST, target / BEST)
        if (run_dir / STATE).read_bytes() == before:
            _mark_best(target, is_best_last)
            return epoch_of(run_dir)
    raise TrainerError(f"{run_dir} kept changing while it was copied; stop its training "
                       "(it resumes from its checkpoint) and save again")


def restore(carried: Path, into: Path) -> dict[str, int]:
    """Lay every carried run back into `into`, unless the folder there is as far along;
    returns the runs restored, with their epochs."""
    restored = {}
    for source in sorted(p for p in carried.glob("*") if (p / STATE).exists()):
        if epoch_of(source) > epoch_of(into / source.name):
            _copy(source, into / source.name)
            if (source / BEST_IS_LAST).exists():
                shutil.copyfile(source / LAST, into / source.name / BEST)
            restored[source.name] = epoch_of(source)
    return restored


def _without_optimizer(source: Path, target: Path) -> None:
    """The best epoch's model without its optimizer's moments, a third of the bytes: the
    report and the converter read it, `--resume` never does (it reads LAST)."""
    import keras  # only here: the rest of carry is file copies

    partial = target.with_name(target.stem + ".partial" + target.suffix)
    keras.models.load_model(source, compile=False).save(partial)
    partial.replace(target)


def _mark_best(target: Path, is_best_last: bool) -> None:
    """The best model is either its own file or the marker, never both (nor a stale one)."""
    (target / (BEST if is_best_last else BEST_IS_LAST)).unlink(missing_ok=True)
    if is_best_last:
        (target / BEST_IS_LAST).write_text(f"{BEST} is {LAST}\n")


def _copy(source: Path, target: Path, skip: frozenset[str] = frozenset()) -> None:
    for name in FILES:
        if (source / name).exists() and name not in skip:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            partial = (target / name).with_name((target / name).name + ".partial")
            shutil.copyfile(source / name, partial)
            partial.replace(target / name)
