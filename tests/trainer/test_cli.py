"""emotion-train's errors: one line on stderr, no traceback, no TensorFlow; exit status 1 for a
user error, as in emotion-edge, and 2 for a command line argparse cannot read."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.trainer.fer_files import make_fer, write_folders, write_npz
from trainer.cli import main
from trainer.data import DATA_HELP, DataError


def _npz(tmp: Path) -> Path:
    return write_npz(tmp / "fer.npz", *make_fer())


def _small_faces(tmp: Path) -> Path:
    images, labels, usage = make_fer()
    return write_npz(tmp / "fer.npz", images[:, :40, :40], labels, usage)


def _unknown_class(tmp: Path) -> Path:
    root = write_folders(tmp / "fer", *make_fer())
    (root / "test" / "contempt").mkdir()
    cv2.imwrite(str(root / "test" / "contempt" / "PublicTest_1.png"), np.zeros((48, 48)))
    return root


def _empty_split(tmp: Path) -> Path:
    images, labels, usage = make_fer()
    return write_npz(tmp / "fer.npz", images, labels, np.minimum(usage, 1))


def _text(name: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / name).write_text("emotion,pixels\n")
        return tmp / name
    return make


# (how to make --data, extra arguments, a fragment of the one error line)
CASES: dict[str, tuple[Callable[[Path], Path], list[str], str]] = {
    "missing file": (lambda tmp: tmp / "absent.npz", [], "dataset not found"),
    "unknown format": (_text("fer.parquet"), [], "unknown dataset format"),
    "bad csv": (_text("fer.csv"), [], "missing column(s) ['Usage']"),
    "wrong image size": (_small_faces, [], "images must be 48x48"),
    "unknown class folder": (_unknown_class, [], "contempt: unknown class folder"),
    "empty split": (_empty_split, [], "split PrivateTest is empty"),
    "zero epochs": (_npz, ["--epochs", "0"], "argument --epochs: 0 is below the minimum of 1"),
    "single votes without votes": (_npz, ["--drop-single-votes"],
                                   "--drop-single-votes works on the FER+ votes"),
    "negative batch": (_npz, ["--batch-size", "-4"], "argument --batch-size"),
    "learning rate": (_npz, ["--lr", "5"], "argument --lr: 5.0 must be between 0 and 1"),
    "weight decay": (_npz, ["--weight-decay", "-0.1"],
                     "argument --weight-decay: -0.1 must be at least 0 and below 1"),
    "limit not a number": (_npz, ["--limit", "lots"], "'lots' is not a whole number"),
    "blocks": (_npz, ["--blocks", "16x1,32x1"], "needs 5 blocks"),
    "unknown option": (_npz, ["--epoch", "3", "--frobnicate"], "unrecognized arguments"),
    "out is a file": (_npz, ["--out", "{tmp}/fer.npz"], "is a file; pass a folder"),
    "report-only without a model": (_npz, ["--report-only", "--out", "{tmp}/run"],
                                    "model.keras not found: train first"),
    "missing teacher": (_npz, ["--distill-from", "{tmp}/teacher.tflite"],
                        "teacher.tflite not found"),
    "distill weight": (_npz, ["--distill-from", "{tmp}/fer.npz", "--distill-weight", "1.5"],
                       "--distill-weight 1.5: must be in (0, 1]"),
}


# argparse's usage errors exit 2; the others are user errors, exit 1
USAGE_ERRORS = {"zero epochs", "negative batch", "learning rate", "weight decay",
                "limit not a number", "blocks", "unknown option"}


@pytest.mark.parametrize("case", CASES)
def test_errors_print_one_line_and_exit_1_or_2_for_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    make, extra, fragment = CASES[case]
    argv = ["--data", str(make(tmp_path)), "--out", str(tmp_path / "run"),
            *(a.format(tmp=tmp_path) for a in extra)]
    assert main(argv) == (2 if case in USAGE_ERRORS else 1)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("emotion-train: error: "), err
    assert fragment in err
    assert not (tmp_path / "run" / "model.keras").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dataset not found"):
        main(["--data", str(tmp_path / "absent.npz"), "--debug"])


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--report-only" in out and "--blocks" in out and "--limit" in out


def test_entry_point_error_has_no_traceback_and_no_tensorflow(tmp_path: Path) -> None:
    code = ("import sys; from trainer.cli import main; status = main(sys.argv[1:]); "
            "assert 'tensorflow' not in sys.modules, 'TensorFlow imported'; sys.exit(status)")
    done = subprocess.run([sys.executable, "-c", code, "--data", str(tmp_path / "x.csv")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"emotion-train: error: dataset not found: {tmp_path / 'x.csv'}. {DATA_HELP}"]


def _parsed(*argv: str) -> Any:
    from trainer.cli import _parser, _with_command

    return _parser().parse_args(_with_command(list(argv)))


def test_options_reach_the_training_config() -> None:
    from trainer.train_cli import _config

    cfg = _config(_parsed("--weight-decay", "0.01", "--lr", "0.001",
                          "--blocks", "8x1,8x1,8x1,8x1,8x1"))
    assert (cfg.weight_decay, cfg.learning_rate) == (0.01, 0.001)
    assert cfg.blocks == ((8, 1),) * 5
    assert (cfg.epochs, cfg.patience) == (80, 30)  # the shipped model's recipe
    assert (cfg.mixup, cfg.ema, cfg.precision) == (0.0, 0.0, "auto")
    cfg = _config(_parsed("--precision", "mixed_bfloat16", "--mixup", "0", "--ema", "0.99"))
    assert (cfg.precision, cfg.mixup, cfg.ema) == ("mixed_bfloat16", 0.0, 0.99)
    cfg = _config(_parsed("--distill-from", "t.tflite", "--distill-weight", "0.3",
                          "--init-from", "t.tflite", "--distill-from", "u.keras"))
    assert (cfg.distill_from, cfg.distill_weight, cfg.init_from) == (
        ("t.tflite", "u.keras"), 0.3, "t.tflite")
    assert _config(_parsed()).distill_from == ()
    assert _config(_parsed("train", "--lr", "0.001")).learning_rate == 0.001  # named or not


@pytest.mark.parametrize(("sub", "option"), [("train", "--resume"), ("convert", "--model"),
                                             ("remeasure", "--averaging"), ("card", "--run"),
                                             ("choose", "--min-recall")])
def test_subcommands_reach_the_converter_and_the_card(
        sub: str, option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([sub, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: emotion-train {sub}") and option in out


def test_the_script_alias_runs_the_converter(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "scripts/convert_tflite.py", "--model",
                           str(tmp_path / "nope.keras"), "--out", str(tmp_path / "m")],
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 1
    assert done.stderr.startswith("emotion-train: error: model not found")


def test_convert_remeasure_is_a_deprecated_alias_of_remeasure(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "--remeasure", "--help"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: emotion-train remeasure") and "deprecated" in err
