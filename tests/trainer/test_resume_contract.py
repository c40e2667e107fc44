"""The checkpoint and `--resume` format is a contract while long runs are in flight.

tests/data/resume-run-19483c6/ is a run folder checkpointed by the trainer as it was at
19483c6, before issue 34 reshaped `trainer/`: a tiny FER+ run (--labels ferplus, warm-started
from and distilled from a teacher .tflite, float32, seed 3) stopped with --stop-after 1 of 2
epochs. It holds what such a folder holds and `--resume` reads: checkpoint/run.json,
checkpoint/state.json, checkpoint/last.keras, model.keras, history.csv, train.json and the
teachers' cached scores (teacher_scores.npz). It was made, with that commit checked out, by:

    emotion-train --data tiny.npz --ferplus ferplus.npz --labels ferplus --label-mix 0.25 \\
        --epochs 2 --batch-size 16 --blocks 4x1,4x1,8x1,8x1,8x1 --precision float32 \\
        --seed 3 --init-from T.tflite --distill-from T.tflite --distill-weight 0.5 \\
        --out run --stop-after 1

on the data `write_tiny_with_votes` writes, T being tests/data/tiny-model.tflite copied to
/tmp/emotion-edge-issue34-teacher/ and deleted afterwards: the resumed run must take the
teachers' scores from the cache and must not warm-start again. Never regenerate it with newer
code: its point is to be old.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import keras
import numpy as np
import pytest

from tests.trainer.fer_files import write_tiny_with_votes
from trainer.cli import main
from trainer.config import TrainConfig

pytestmark = pytest.mark.slow
OLD_RUN = Path(__file__).resolve().parents[1] / "data" / "resume-run-19483c6"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The old run copied, pointed at the same data where it lies now, resumed."""
    root = tmp_path_factory.mktemp("old-run")
    data, votes = write_tiny_with_votes(root)
    run = Path(shutil.copytree(OLD_RUN, root / "run"))
    saved_path = run / "checkpoint" / "run.json"
    saved = json.loads(saved_path.read_text())
    teacher = Path(saved["config"]["distill_from"][0])
    assert not teacher.exists(), f"{teacher} must be absent: the cache is under test"
    # Only where the data lies changes: the file format is the old one, key for key.
    saved["data"], saved["config"]["ferplus"] = str(data), str(votes)
    saved_path.write_text(json.dumps(saved, indent=2))
    with redirect_stdout(io.StringIO()):
        assert main(["--resume", str(run)]) == 0
    return run


def test_the_old_run_resumes_and_finishes_its_schedule(resumed: Path) -> None:
    old_rows, rows = _rows(OLD_RUN / "history.csv"), _rows(resumed / "history.csv")
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert rows[0] == old_rows[0]  # the finished epoch is kept, not redone
    state = json.loads((resumed / "checkpoint" / "state.json").read_text())
    old_state = json.loads((OLD_RUN / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 1 and len(state["epoch_seconds"]) == 2
    assert state["epoch_seconds"][0] == old_state["epoch_seconds"][0]


def test_the_optimizer_goes_on_from_the_checkpoint(resumed: Path) -> None:
    before = keras.models.load_model(OLD_RUN / "checkpoint" / "last.keras")
    after = keras.models.load_model(resumed / "checkpoint" / "last.keras")
    steps_per_epoch = int(before.optimizer.iterations.numpy())
    assert steps_per_epoch > 0
    assert int(after.optimizer.iterations.numpy()) == 2 * steps_per_epoch  # not from step 0
    assert any(not np.array_equal(a, b)
               for a, b in zip(before.get_weights(), after.get_weights(), strict=True))


def test_the_teachers_cache_is_reused_and_the_summary_keeps_the_config(resumed: Path) -> None:
    assert ((resumed / "teacher_scores.npz").read_bytes()
            == (OLD_RUN / "teacher_scores.npz").read_bytes())
    summary = json.loads((resumed / "train.json").read_text())
    saved = json.loads((resumed / "checkpoint" / "run.json").read_text())
    # every saved setting as it was; a setting added since the run began, at its default
    assert {k: summary["config"][k] for k in saved["config"]} == saved["config"]
    added = {k: v for k, v in summary["config"].items() if k not in saved["config"]}
    assert added == {k: getattr(TrainConfig(), k) for k in added}
    assert summary["epochs_run"] == 2 and summary["monitor"] == "val_ferplus_score"
    assert (resumed / "metrics.json").is_file() and (resumed / "report.md").is_file()
