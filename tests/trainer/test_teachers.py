"""`emotion-train teachers`: each teacher measured as the converter measures it, and the
ensemble the student learns (a geometric mean): of a teacher with itself, the teacher."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from tests.trainer.fer_files import write_tiny_with_votes
from trainer.cli import main
from trainer.distill import geometric_mean


def test_the_geometric_mean_renormalises_and_keeps_agreeing_teachers() -> None:
    a = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    np.testing.assert_allclose(geometric_mean([a, a]), a, rtol=1e-5)
    mixed = geometric_mean([a, a[:, ::-1]])
    np.testing.assert_allclose(mixed.sum(1), 1.0, rtol=1e-5)
    # two teachers sure of opposite answers: both kept, each below the arithmetic mean
    assert mixed[0, 0] == pytest.approx(mixed[0, 2]) and mixed[0, 0] < (0.7 + 0.1) / 2


def test_a_teacher_with_itself_is_the_teacher(tiny_model: Path, tmp_path: Path) -> None:
    data, _votes = write_tiny_with_votes(tmp_path)
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["teachers", str(tiny_model), str(tiny_model), "--data", str(data)]) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[2].startswith("ensemble of 2 (geometric mean), crops:")
    figures = [re.sub(r"^.*?crops: ", "", line) for line in lines]
    assert figures[0] == figures[1] == figures[2]
    assert re.search(r"PublicTest raw \d+\.\d\d% / \d+\.\d\d%, at tau [\d.]+ ", figures[0])


def test_a_teacher_that_is_not_a_model_is_a_user_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    assert main(["teachers", str(tmp_path / "notes.txt")]) == 1
    assert "pass a run's model.keras or an int8 .tflite" in capsys.readouterr().err
