"""Guards the model that ships in the package (edge/assets, linked from models/): its file,
its contract and its accuracy.

The accuracy is measured the way the daemon runs it: the edge's own classifier (LiteRT, the
sidecar's preprocessing) on every PrivateTest face, with each test-time averaging, and must
stay within 0.5 points of the figure the model card and the sidecar state.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from edge.assets import asset_path
from edge.classify.config import ClassifierConfig
from edge.classify.tflite import TfliteEmotionClassifier
from edge.model_contract import AVERAGINGS
from edge.ports import FaceBox, Frame

MODELS = Path(__file__).resolve().parent.parent / "models"
MODEL = asset_path("emotion-edge.tflite")  # the copy the package (and the daemon) uses
SIDECAR = asset_path("emotion-edge.json")
TOLERANCE = 0.005  # 0.5 points


@pytest.fixture(scope="module")
def sidecar() -> dict:
    return json.loads(SIDECAR.read_text())


def test_sidecar_sha256_matches_the_shipped_file(sidecar: dict) -> None:
    assert hashlib.sha256(MODEL.read_bytes()).hexdigest() == sidecar["sha256"]


def test_the_shipped_sidecar_carries_golden_vectors_this_runtime_passes(sidecar: dict) -> None:
    """Recorded for this very file, clear faces and unsure ones, with both kernel sets."""
    block = sidecar["golden"]
    assert block["model_sha256"] == sidecar["sha256"]
    outputs = [v["output"] for v in block["vectors"]]
    assert len(outputs) == 6 and sum(max(o) < 100 for o in outputs) >= 3  # not all saturated
    for is_xnnpack_enabled in (True, False):  # loading runs them; a mismatch raises
        TfliteEmotionClassifier(ClassifierConfig(
            model_path=MODEL, is_xnnpack_enabled=is_xnnpack_enabled)).close()


@pytest.mark.parametrize("name", ["emotion-edge.tflite", "emotion-edge.json"])
def test_models_folder_shows_the_packaged_model(name: str) -> None:
    """models/ links to the package's files: one model, not two copies that can drift (an
    export to models/ writes through the links)."""
    assert (MODELS / name).resolve() == asset_path(name).resolve()


def test_shipped_model_meets_the_edge_budget(sidecar: dict) -> None:
    assert MODEL.stat().st_size <= 2_000_000
    assert sidecar["macs"] <= 60_000_000
    assert sidecar["quantization"] == "int8"
    assert sidecar["labels"] == ["angry", "disgust", "fear", "happy", "sad", "surprise",
                                 "neutral"]


def _private_test(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """PrivateTest faces, FER2013 labels and, when ferplus.npz lies beside, FER+ votes."""
    with np.load(path) as data:
        private = data["usage"] == 2
        faces, labels = data["images"][private], data["labels"][private]
    votes_path = path.with_name("ferplus.npz")
    if not votes_path.is_file():
        return faces, labels, None
    with np.load(votes_path) as votes:
        return faces, labels, votes["votes"][private]


_SCORES: dict[str, np.ndarray] = {}


def _published_scores(faces: np.ndarray, averaging: str) -> np.ndarray:
    """The scores the daemon publishes for each face (calibrated, in label order)."""
    if averaging not in _SCORES:
        classifier = TfliteEmotionClassifier(
            ClassifierConfig(model_path=MODEL, averaging=averaging))
        whole = FaceBox(0, 0, faces.shape[2], faces.shape[1])
        _SCORES[averaging] = np.array([
            list(classifier.classify(Frame(face, "fer2013", 0.0), whole).scores.values())
            for face in faces])
    return _SCORES[averaging]


def test_the_daemon_default_is_the_sidecars_averaging(sidecar: dict) -> None:
    classifier = TfliteEmotionClassifier(ClassifierConfig(model_path=MODEL))
    assert classifier.averaging == sidecar["averaging"]["default"]
    assert classifier.averagings["continuous"] == sidecar["averaging"]["continuous"]


@pytest.mark.dataset
@pytest.mark.parametrize("averaging", AVERAGINGS)
def test_litert_accuracy_on_private_test_matches_the_card(
        fer2013_path: Path, sidecar: dict, averaging: str) -> None:
    faces, labels, _ = _private_test(fer2013_path)
    predicted = _published_scores(faces, averaging).argmax(1)
    accuracy = float(np.mean(predicted == labels))
    claimed = sidecar["accuracy"]["PrivateTest"]["averaged"][averaging]["tflite"]
    assert accuracy >= claimed - TOLERANCE, f"{accuracy:.4f} < card {claimed:.4f} - 0.5 pt"
    card = (MODELS / "README.md").read_text()
    assert re.search(rf"\b{100 * claimed:.1f}%", card), "the card must state the figure"


@pytest.mark.dataset
@pytest.mark.parametrize("averaging", AVERAGINGS)
def test_crowd_agreement_on_private_test_matches_the_card(
        fer2013_path: Path, sidecar: dict, averaging: str) -> None:
    """FER+ majority accuracy, mean per-emotion recall and calibration error, as published."""
    from trainer.ferplus import Votes, agreement_metrics

    faces, _, votes = _private_test(fer2013_path)
    if votes is None:
        pytest.skip(f"no ferplus.npz beside {fer2013_path}")
    got = agreement_metrics(_published_scores(faces, averaging), Votes(votes))
    claimed = sidecar["crowd"][averaging]["PrivateTest"]
    assert got["n"] == claimed["n"] == 3349
    assert got["accuracy"] >= claimed["accuracy"] - TOLERANCE
    assert got["mean_recall"] >= claimed["mean_recall"] - 2 * TOLERANCE
    assert got["ece"] <= claimed["ece"] + 0.01
    card = (MODELS / "README.md").read_text()
    for key in ("accuracy", "mean_recall"):
        assert f"{100 * claimed[key]:.1f}%" in card, f"the card must state the {key}"
