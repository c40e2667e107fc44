"""The rule that picks an operating point, and a model, on PublicTest (issue 30)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trainer.calibrate import RECALL_TARGET, TAUS, choose, crowd_score, fit
from trainer.cli import main
from trainer.ferplus import COLUMNS, Votes


def _point(name: str, accuracy: float, mean_recall: float) -> dict[str, object]:
    return {"name": name, "accuracy": accuracy, "mean_recall": mean_recall}


def test_the_most_accurate_point_that_reaches_the_recall_target_wins() -> None:
    points = [_point("crowd", 0.842, 0.747), _point("a", 0.825, 0.786),
              _point("b", 0.819, 0.790), _point("recall", 0.805, 0.810)]
    assert choose(points, 0.78)["name"] == "a"


def test_the_rule_cannot_pick_a_worse_network_that_the_mean_prefers() -> None:
    # The card's case: the averaged score prefers the worse network's high-recall point,
    # though the better one is more accurate at a recall that meets the target.
    worse = [_point("worse, tau 0.6", 0.800, 0.830)]
    better = [_point("better, tau 0.3", 0.825, 0.785)]
    by_mean = max(worse + better, key=crowd_score)
    assert by_mean["name"] == "worse, tau 0.6"
    assert choose(worse + better, 0.78)["name"] == "better, tau 0.3"


def test_without_a_point_at_the_target_the_nearest_recall_wins() -> None:
    points = [_point("crowd", 0.85, 0.70), _point("nearest", 0.80, 0.77)]
    assert choose(points, 0.78)["name"] == "nearest"


def test_ties_go_to_the_higher_recall_and_nothing_is_refused() -> None:
    points = [_point("low", 0.83, 0.79), _point("high", 0.83, 0.80)]
    assert choose(points, 0.78)["name"] == "high"
    with pytest.raises(ValueError, match="nothing to choose"):
        choose([])


def _votes_for(labels: np.ndarray) -> Votes:
    """Eight of ten annotators name the face's label (FER+ columns), two say unknown."""
    ours_to_column = [4, 5, 6, 1, 3, 2, 0]
    counts = np.zeros((len(labels), len(COLUMNS)), dtype=np.uint8)
    counts[np.arange(len(labels)), np.array(ours_to_column)[labels]] = 8
    counts[:, COLUMNS.index("unknown")] = 2
    return Votes(counts)


def test_fit_returns_the_tau_the_rule_picks_from_its_own_table() -> None:
    rng = np.random.default_rng(0)
    labels = rng.choice(7, size=2000, p=[0.1, 0.02, 0.08, 0.3, 0.12, 0.1, 0.28])
    # a crowd-like model: right on common emotions, drawn towards neutral on rare ones
    logits = rng.normal(0, 1.0, (len(labels), 7))
    logits[np.arange(len(labels)), labels] += 2.3
    logits[:, 6] += 1.3
    logits[:, 3] += 0.5
    scores = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    _, tau, table = fit(scores, _votes_for(labels), scores.mean(0))
    assert [row["tau"] for row in table] == list(TAUS)
    chosen = next(row for row in table if row["tau"] == tau)
    assert chosen == choose(table, RECALL_TARGET)
    meeting = [row for row in table if row["mean_recall"] >= RECALL_TARGET]
    assert meeting, "the synthetic model should reach the target at some tau"
    assert chosen["accuracy"] == max(row["accuracy"] for row in meeting)
    # the raw point (tau 0) misses the target: the rule had to move
    assert table[0]["mean_recall"] < RECALL_TARGET and tau > 0


def _sidecar(path: Path, public: tuple[float, float], private: tuple[float, float]) -> Path:
    def figures(accuracy: float, recall: float) -> dict[str, float]:
        return {"accuracy": accuracy, "mean_recall": recall}

    model = path.with_suffix(".tflite")
    model.write_bytes(b"")
    path.write_text(json.dumps({
        "averaging": {"default": "crops"},
        "calibration": {"by_averaging": {"crops": {"tau": 0.4}}},
        "crowd": {"crops": {"PublicTest": figures(*public),
                            "PrivateTest": figures(*private)}}}))
    return model


def test_choose_command_picks_by_public_test_and_never_by_private_test(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # b leads on PrivateTest; a is the more accurate on PublicTest at the recall target
    a = _sidecar(tmp_path / "a.json", public=(0.825, 0.786), private=(0.80, 0.76))
    b = _sidecar(tmp_path / "b.json", public=(0.819, 0.800), private=(0.84, 0.80))
    crowd = _sidecar(tmp_path / "c.json", public=(0.850, 0.700), private=(0.85, 0.70))
    assert main(["choose", str(a), str(b), str(crowd)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(a)


def test_choose_command_says_how_to_refit_a_sidecar_without_crowd_figures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old.tflite"
    old.write_bytes(b"")
    old.with_suffix(".json").write_text(json.dumps({"averaging": {"default": "crops"}}))
    assert main(["choose", str(old)]) == 1  # a user error, as in emotion-edge
    err = capsys.readouterr().err
    assert err.startswith("emotion-train: error: ") and err.count("\n") == 1
    assert f"emotion-train remeasure --model {old}" in err
