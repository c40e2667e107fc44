"""The edge's calibration: bias before temperature, identity for older sidecars."""

from __future__ import annotations

import numpy as np
import pytest

from edge.calibration import Calibration, calibration_of

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_bias_moves_the_answer_and_temperature_only_the_confidence() -> None:
    scores = np.array([0.2, 0.0, 0.1, 0.1, 0.1, 0.1, 0.4], np.float32)
    biased = Calibration(log_bias=(0.0,) * 6 + (-1.0,)).apply(scores)
    assert biased.argmax() == 0 and biased.sum() == pytest.approx(1.0)
    for t in (0.5, 2.0):
        warmed = Calibration(temperature=t, log_bias=(0.0,) * 6 + (-1.0,)).apply(scores)
        assert warmed.argmax() == 0
        assert (warmed.max() < biased.max()) == (t > 1)


def test_a_zero_score_stays_finite() -> None:
    out = Calibration(temperature=2.0).apply(np.array([1.0, 0, 0, 0, 0, 0, 0], np.float32))
    assert np.isfinite(out).all() and out.argmax() == 0


def test_no_block_means_no_change() -> None:
    calibration = calibration_of(None, LABELS)
    scores = np.full(7, 1 / 7, np.float32)
    assert calibration.is_identity and calibration.apply(scores) is scores


@pytest.mark.parametrize("block, error", [
    ({"temperature": 0}, "outside"),
    ({"log_bias": {"contempt": 1.0}}, "must map labels"),
    ("warm", "must be an object"),
])
def test_bad_blocks_say_what_is_wrong(block: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        calibration_of(block, LABELS)


def test_the_block_is_read_in_label_order() -> None:
    calibration = calibration_of({"temperature": 1.5, "log_bias": {"neutral": -0.5,
                                                                    "angry": 0.25}}, LABELS)
    assert calibration.log_bias == (0.25, 0, 0, 0, 0, 0, -0.5)
    assert calibration.temperature == 1.5
