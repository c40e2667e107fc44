"""End to end: `emotion-train` on a tiny synthetic .npz, 1 epoch, then its report is checked.

Every test runs for a float32 run and a mixed_bfloat16 one, named explicitly: `--precision
auto` would pick by the CPU's flags, and the suite must pass the same on every x86-64 CPU
(issue 21: a bf16 run's model.keras could not be converted).

The key check is the one that would have caught the seed's bug (a confusion matrix computed
on unscaled pixels, 20.9% shown for a 67% model): the report's figures must equal a direct
evaluation of the saved model on the same split, and a wrongly scaled input must give
different figures, so the comparison can fail.
"""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import keras
import numpy as np
import pytest

from tests.trainer.fer_files import make_fer, write_npz
from trainer.cli import main
from trainer.data import LABELS, FerData, load_dataset
from trainer.metrics import classification_metrics
from trainer.model import count_macs
from trainer.plots import PLOT_FILES

pytestmark = pytest.mark.slow
TINY = "4x1,8x1,8x1,16x1,16x1"
PRECISIONS = ("float32", "mixed_bfloat16")
RUN_FILES = ("model.keras", "history.csv", "train.json", "metrics.json", "report.md",
             *PLOT_FILES)


@dataclass(frozen=True)
class Run:
    status: int
    stdout: str
    out: Path
    data_path: Path
    data: FerData
    precision: str

    def argv(self, *extra: str) -> list[str]:
        return ["--data", str(self.data_path), "--out", str(self.out), "--epochs", "1",
                "--batch-size", "16", "--blocks", TINY, "--seed", "1",
                "--precision", self.precision, *extra]


def _tiny_fer(path: Path) -> Path:
    """8 faces per class for Training (+1 exact duplicate), 4 per class per test split,
    plus 2 PrivateTest faces copied from Training (so the clean part is smaller)."""
    images, labels, usage = make_fer(train_per_class=8, test_per_class=4)
    extra = [0, 1, 2]  # Training faces: 0 duplicated in Training, 1 and 2 leak into PrivateTest
    images = np.concatenate([images, images[extra]])
    labels = np.concatenate([labels, labels[extra]])
    usage = np.concatenate([usage, np.array([0, 2, 2], np.uint8)])
    return write_npz(path, images, labels, usage)


def _run_cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(argv)
    return status, out.getvalue()


@pytest.fixture(scope="module", params=PRECISIONS)
def run(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Run:
    root = tmp_path_factory.mktemp(f"e2e-{request.param}")
    data_path = _tiny_fer(root / "tiny.npz")
    probe = Run(0, "", root / "run", data_path, load_dataset(data_path), request.param)
    status, stdout = _run_cli(probe.argv())
    return Run(status, stdout, probe.out, data_path, probe.data, probe.precision)


def _metrics(run: Run) -> dict[str, Any]:
    return json.loads((run.out / "metrics.json").read_text())


def test_cli_succeeds_and_prints_costs_and_cleanup(run: Run) -> None:
    assert run.status == 0, run.stdout
    assert "M MACs per face" in run.stdout and "parameters" in run.stdout
    assert "images/s" in run.stdout
    assert "duplicates 1" in run.stdout and "fitting on 56" in run.stdout


def test_every_report_file_exists(run: Run) -> None:
    for name in RUN_FILES:
        assert (run.out / name).is_file(), name
    for name in PLOT_FILES:
        image = cv2.imread(str(run.out / name))
        assert image is not None and min(image.shape[:2]) > 100, name
    report = (run.out / "report.md").read_text()
    assert all(f"]({name})" in report for name in PLOT_FILES)
    assert "PrivateTest" in report and "MACs" in report and "images/s" in report


def test_metrics_cover_both_test_splits_and_their_clean_part(run: Run) -> None:
    metrics = _metrics(run)
    assert metrics["labels"] == list(LABELS)
    for name, n, clean in (("PublicTest", 28, 28), ("PrivateTest", 30, 28)):
        part = metrics[name]
        assert part["n"] == n and part["clean"]["n"] == clean
        assert np.asarray(part["confusion_matrix"]).sum() == n
        assert list(part["per_class"]) == list(LABELS)
        assert 0 <= part["flip_tta_accuracy"] <= 1 and 0 <= part["macro_f1"] <= 1


def test_report_equals_a_direct_evaluation_of_the_saved_model(run: Run) -> None:
    model = keras.models.load_model(run.out / "model.keras")
    metrics = _metrics(run)
    for name in ("PublicTest", "PrivateTest"):
        split = run.data.split(name)
        x, y = split.images[..., None], split.labels
        direct = classification_metrics(y, model.predict(x, verbose=0).argmax(1))
        assert metrics[name]["confusion_matrix"] == direct["confusion_matrix"]
        assert metrics[name]["accuracy"] == pytest.approx(direct["accuracy"], abs=1e-12)
        _, accuracy = model.evaluate(x, keras.utils.to_categorical(y, len(LABELS)), verbose=0)
        assert metrics[name]["accuracy"] == pytest.approx(accuracy, abs=1e-6)
        # the seed's class of bug: pixels scaled outside the model change the figures
        wrong = classification_metrics(y, model.predict(x / 255.0, verbose=0).argmax(1))
        assert wrong["confusion_matrix"] != direct["confusion_matrix"]


def test_saved_model_is_the_clean_inference_graph(run: Run) -> None:
    model = keras.models.load_model(run.out / "model.keras")
    assert model.inputs[0].dtype == "uint8"
    assert not [x.name for x in model.layers if type(x).__name__.startswith("Random")]
    summary = json.loads((run.out / "train.json").read_text())
    assert summary["macs"] == count_macs(model) and summary["params"] == model.count_params()
    assert summary["images_per_second"] > 0 and summary["epochs_run"] == 1
    assert summary["data"]["dropped_duplicates"] == 1


def test_report_only_rebuilds_the_same_report(run: Run, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run.out, copy)
    for name in ("metrics.json", "report.md", *PLOT_FILES):
        (copy / name).unlink()
    again = Run(0, "", copy, run.data_path, run.data, run.precision)
    status, stdout = _run_cli([*again.argv(), "--report-only"])
    assert status == 0, stdout
    assert "M MACs per face" in stdout and "earlier run" in stdout
    assert json.loads((copy / "metrics.json").read_text()) == _metrics(run)
    assert all((copy / name).is_file() for name in ("report.md", *PLOT_FILES))
    assert (copy / "model.keras").read_bytes() == (run.out / "model.keras").read_bytes()


@pytest.fixture(scope="module")
def converted(run: Run, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    """`emotion-train convert` on the run's model.keras: its exit status and output stem."""
    stem = tmp_path_factory.mktemp("models") / "emotion-edge"
    # a 1-epoch tiny model: its int8 copy may fall far below Keras; the gate is tested elsewhere
    status = main(["convert", "--model", str(run.out / "model.keras"), "--data",
                   str(run.data_path), "--out", str(stem), "--max-drop", "100"])
    return status, stem


def test_the_run_records_the_precision_it_trained_under(run: Run) -> None:
    assert json.loads((run.out / "train.json").read_text())["precision"] == run.precision
    assert _metrics(run)["trained_precision"] == run.precision
    assert f"- Precision: trained under {run.precision}" in (run.out / "report.md").read_text()


def test_the_converter_takes_the_run_and_checks_it_against_the_float32_network(
        run: Run, converted: tuple[int, Path]) -> None:
    """The Keras side of the sidecar's figures is the float32 network that was converted:
    the saved weights computing in float32, whatever policy they were trained under."""
    from edge.model_contract import load_contract
    from trainer.scoring import TfliteModel, predict_scores
    from trainer.to_tflite import float32_model, op_names

    status, stem = converted
    assert status == 0
    tflite = stem.with_suffix(".tflite")
    assert "CONV_2D" in op_names(tflite.read_bytes(), "int8")  # builtin int8 ops only
    assert list(load_contract(tflite).labels) == list(LABELS)
    side = json.loads(stem.with_suffix(".json").read_text())
    assert side["trained_precision"] == run.precision
    from edge.classify.config import ClassifierConfig
    from edge.classify.tflite import TfliteEmotionClassifier

    # golden vectors recorded for this very file, and loading runs them
    assert side["golden"]["model_sha256"] == side["sha256"]
    assert len(side["golden"]["vectors"]) == 6
    TfliteEmotionClassifier(ClassifierConfig(model_path=tflite)).close()
    public = run.data.split("PublicTest")
    float32 = float32_model(keras.models.load_model(run.out / "model.keras"))
    k = predict_scores(float32, public.images).argmax(1)
    t = predict_scores(TfliteModel(tflite), public.images).argmax(1)
    row = side["accuracy"]["PublicTest"]
    assert row["keras"] == pytest.approx((k == public.labels).mean(), abs=1e-4)
    assert row["agreement"] == pytest.approx((k == t).mean(), abs=1e-4)


def test_the_card_states_the_converted_models_figures_for_every_averaging(
        run: Run, converted: tuple[int, Path]) -> None:
    status, stem = converted
    assert status == 0
    model = stem.with_suffix(".tflite")
    assert main(["card", "--run", str(run.out), "--model", str(model), "--train-command",
                 "emotion-train ...", "--convert-command", "emotion-train convert ..."]) == 0
    card = (stem.parent / "README.md").read_text()
    side = json.loads(stem.with_suffix(".json").read_text())
    private = side["accuracy"]["PrivateTest"]
    for averaging in ("none", "flip", "crops"):
        assert f"{100 * private['averaged'][averaging]['tflite']:.1f}%" in card, averaging
    assert f"int8, {side['averaging']['default']} (daemon default)" in card
    assert f"{side['averaging']['invokes']['crops']} invokes" in card
