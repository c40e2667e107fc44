"""A run stopped after an epoch, carried to the next working window (`emotion-train carry`)
and resumed there ends where an uninterrupted run ends.

Also the FER+ path end to end on tiny data: votes aligned to the .npz become the
targets, the checkpoint is chosen by the crowd score, the report gives the crowd figures.
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

pytestmark = pytest.mark.slow
TINY = "4x1,4x1,8x1,8x1,8x1"


def _train(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(list(argv))
    return status, out.getvalue()


def _history(run: Path) -> list[dict[str, str]]:
    with (run / "history.csv").open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("resume")
    data, votes = write_tiny_with_votes(root)
    common = ["--data", str(data), "--ferplus", str(votes), "--labels", "ferplus",
              "--label-mix", "0.25", "--epochs", "3", "--batch-size", "16", "--blocks", TINY,
              "--precision", "float32", "--seed", "3"]
    whole, stopped = root / "whole", root / "window-1" / "parts"
    assert _train(*common, "--out", str(whole))[0] == 0
    assert _train(*common, "--out", str(stopped), "--stop-after", "1")[0] == 0
    assert len(_history(stopped)) == 1
    # stopped between epoch 1's history row and its checkpoint: the row goes, the epoch reruns
    with (stopped / "history.csv").open("a") as f:
        f.write("1" + ",0" * (len(_history(stopped)[0]) - 1) + "\n")
    # the window ends: the run goes into the committed folder, its machine goes away
    carried = ["--carried", str(root / "carried-runs")]
    assert _train("carry", "save", str(stopped), *carried)[0] == 0
    shutil.rmtree(root / "window-1")
    assert _train("carry", "restore", *carried, "--into", str(root / "window-2"))[0] == 0
    parts = root / "window-2" / "parts"
    assert _train("--resume", str(parts))[0] == 0
    return whole, parts


def test_resumed_run_matches_the_uninterrupted_one(runs: tuple[Path, Path]) -> None:
    whole, parts = runs
    assert _history(parts) == _history(whole)
    a = keras.models.load_model(whole / "checkpoint" / "last.keras")
    b = keras.models.load_model(parts / "checkpoint" / "last.keras")
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    assert int(a.optimizer.iterations) == int(b.optimizer.iterations) > 0


def test_checkpoint_is_chosen_by_the_crowd_score(runs: tuple[Path, Path]) -> None:
    whole, _ = runs
    rows = _history(whole)
    summary = json.loads((whole / "train.json").read_text())
    assert summary["monitor"] == "val_ferplus_score"
    best = max(range(len(rows)), key=lambda i: float(rows[i]["val_ferplus_score"]))
    assert summary["best_epoch"] == best


def test_report_gives_the_crowd_figures_per_averaging(runs: tuple[Path, Path]) -> None:
    whole, _ = runs
    crowd = json.loads((whole / "metrics.json").read_text())["ferplus"]
    assert set(crowd) == {"none", "flip", "crops"}
    private = crowd["flip"]["PrivateTest"]
    assert private["n"] == 28 and 0 <= private["ece"] <= 1
    assert set(private["recall"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise",
                                      "neutral"}
    assert "Agreement with the FER+ annotators" in (whole / "report.md").read_text()


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--resume", str(tmp_path)]) == 1
    assert "no checkpoint there" in capsys.readouterr().err


def test_converted_sidecar_and_card_carry_the_calibration_and_crowd_figures(
        runs: tuple[Path, Path]) -> None:
    from edge.model_contract import load_contract

    whole, _ = runs
    data = whole.parent / "tiny.npz"
    stem = whole.parent / "model" / "emotion-edge"
    assert main(["convert", "--model", str(whole / "model.keras"), "--data", str(data),
                 "--ferplus", str(whole.parent / "ferplus.npz"), "--out", str(stem),
                 "--max-drop", "100", "--averaging", "crops",
                 "--continuous-averaging", "none"]) == 0
    side = json.loads(stem.with_suffix(".json").read_text())
    assert side["labels_source"] == "ferplus"
    assert side["averaging"]["default"] == "crops" and side["averaging"]["continuous"] == "none"
    contract = load_contract(stem.with_suffix(".tflite"))
    assert set(contract.calibrations) == {"none", "flip", "crops"}
    assert main(["card", "--run", str(whole), "--model", str(stem.with_suffix(".tflite")),
                 "--train-command", "emotion-train ...", "--convert-command", "..."]) == 0
    card = (stem.parent / "README.md").read_text()
    crops = side["crowd"]["crops"]["PrivateTest"]
    assert f"**{100 * crops['accuracy']:.1f}%** (n={crops['n']})" in card
    assert f"**{100 * crops['mean_recall']:.1f}%**" in card
    assert "## Agreement with the FER+ annotators" in card
    assert f"(n={crops['barsoum']['n']})" in card and "strong expressions" in card

    # remeasure refits a calibration that was fitted otherwise, without the Keras model
    fitted = side["calibration"]["by_averaging"]
    side["calibration"]["by_averaging"] = {
        a: {**block, "tau": 1.5, "log_bias": dict.fromkeys(block["log_bias"], 5.0)}
        for a, block in fitted.items()}
    stem.with_suffix(".json").write_text(json.dumps(side))
    assert main(["remeasure", "--model", str(stem.with_suffix(".tflite")),
                 "--data", str(data), "--ferplus", str(whole.parent / "ferplus.npz"),
                 "--averaging", "crops"]) == 0
    refitted = json.loads(stem.with_suffix(".json").read_text())
    assert refitted["calibration"]["by_averaging"] == fitted
    assert refitted["crowd"] == side["crowd"]
    load_contract(stem.with_suffix(".tflite"))  # the edge still loads it


def test_a_run_begun_in_bf16_resumes_in_float32_on_a_cpu_without_bf16(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CPU changes between working windows: `--precision auto` resolves anew at each
    resume, and the weights and optimizer state carry over into the other policy."""
    import trainer.config as config_module
    from trainer.model import precision_of

    data, votes = write_tiny_with_votes(tmp_path)
    run = tmp_path / "run"
    monkeypatch.setattr(config_module, "_cpu_flags", lambda: {"avx512f", "amx_bf16"})
    assert _train("--data", str(data), "--ferplus", str(votes), "--labels", "ferplus",
                  "--epochs", "3", "--batch-size", "16", "--blocks", TINY, "--seed", "3",
                  "--out", str(run), "--stop-after", "1")[0] == 0
    begun = keras.models.load_model(run / "checkpoint" / "last.keras")
    assert precision_of(begun) == "mixed_bfloat16"
    steps_per_epoch = int(begun.optimizer.iterations.numpy())

    monkeypatch.setattr(config_module, "_cpu_flags", lambda: {"avx2"})
    status, printed = _train("--resume", str(run))
    assert status == 0, printed
    assert [int(r["epoch"]) for r in _history(run)] == [0, 1, 2]
    resumed = keras.models.load_model(run / "checkpoint" / "last.keras")
    assert precision_of(resumed) == "float32"
    # the schedule went on from where it stopped, not from step 0
    assert int(resumed.optimizer.iterations.numpy()) == 3 * steps_per_epoch
    assert json.loads((run / "train.json").read_text())["precision"] == "float32"
