"""`python -m benchmarks` runs end to end with --quick on the tiny model: every row is there
and its numbers are sane. The edge side always runs; the fer side is checked when `fer` (the
`bench` extra) is installed, and the accuracy rows when FER2013 is present. The detector and
crop sections run only when named, each checked where its data is."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

EDGE_ROWS = ("Faces found in the 640x480 frame", "End-to-end per 640x480 frame",
             "Ours by stage", "Classifier per face, ours averaging=flip, 2 invokes (the default)",
             "Classifier per face, ours averaging=none, 1 invoke",
             "Classifier per face, ours averaging=crops, 10 invokes",
             "Model file size (KiB)", "MACs per invoke",
             "Start-up to first result", "Peak RSS of that process",
             "TensorFlow imported by that process")
ACCURACY_ROWS = ("Accuracy, FER2013 PrivateTest, averaging=flip, 2 invokes (the default)",
                 "Accuracy, FER2013 PrivateTest, averaging=none, 1 invoke",
                 "Accuracy, FER2013 PrivateTest, averaging=crops, 10 invokes",
                 "Accuracy, clean PrivateTest")
SECTIONS = ("accuracy", "e2e", "classifier", "startup")


def _fer_missing() -> str | None:
    for name in ("fer", "tensorflow"):
        if importlib.util.find_spec(name) is None:
            return (f"{name} is not installed (pip install -e .[bench] && pip install --no-deps "
                    "fer==25.10.3); the peer is skipped")
    return None


@pytest.fixture(scope="module")
def table(tiny_model: Path, repo_root: Path, tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, list[str]]:
    """Run the default sections once; metric -> cells (ours, peer, comparison, goal, command
    ref)."""
    out = tmp_path_factory.mktemp("bench") / "bench.md"
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--model", str(tiny_model),
           "--out", str(out)]
    if _fer_missing():
        cmd.append("--no-peer")
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=220,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text in proc.stdout  # --out holds what was printed
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 6 and cells[0] != "Metric":
            rows[cells[0]] = cells[1:]
    rows["__text__"] = [text]
    return rows


def _row(table: dict[str, list[str]], prefix: str, which: str = "") -> list[str]:
    found = [cells for metric, cells in table.items()
             if metric.startswith(prefix) and which in metric]
    assert len(found) == 1, f"expected one row {prefix!r} {which!r}, got {len(found)}"
    return found[0]


def test_every_edge_row_is_there_with_its_command(table: dict[str, list[str]]) -> None:
    for prefix in EDGE_ROWS:
        assert [m for m in table if m.startswith(prefix)], f"row {prefix!r} missing"
    text = table["__text__"][0]
    for i, section in enumerate(SECTIONS, start=1):
        assert re.search(rf"- \[{i}\] `.*-m benchmarks --quick .*--only {section}`$", text,
                         re.MULTILINE)
    assert re.search(r"^Ours: `[^/`]+`", text, re.MULTILINE)  # no path of this machine
    refs = {cells[4] for metric, cells in table.items() if metric != "__text__"}
    assert refs == {"[1]", "[2]", "[3]", "[4]"}
    assert "| setting |" not in text and "| detector |" not in text  # only when named


def test_edge_numbers_are_sane(table: dict[str, list[str]], tiny_model: Path) -> None:
    assert _row(table, "Faces found")[0] == "1"
    e2e_median = float(_row(table, "End-to-end", "median")[0])
    e2e_p90 = float(_row(table, "End-to-end", "p90")[0])
    assert 0 < e2e_median <= e2e_p90 < 5000
    stages = dict(part.split() for part in _row(table, "Ours by stage")[0].split(", "))
    assert set(stages) == {"capture", "detect", "classify", "publish"}
    assert float(stages["detect"]) + float(stages["classify"]) < e2e_p90
    face_ms = float(_row(table, "Classifier per face, ours averaging=none", "median")[0])
    assert 0 < face_ms < e2e_median
    assert _row(table, "Model file size")[0] == f"{tiny_model.stat().st_size / 1024:.0f}"
    sidecar = json.loads(tiny_model.with_suffix(".json").read_text())
    macs, graph = re.fullmatch(r"([\d.]+) \(([\d.]+)\)", _row(table, "MACs")[0]).groups()
    assert float(macs) == pytest.approx(sidecar["macs"] / 1e6, abs=0.05)
    assert float(graph) == pytest.approx(float(macs), rel=0.1, abs=0.05)
    assert 0 < float(_row(table, "Start-up")[0]) < 60
    assert 20 < float(_row(table, "Peak RSS")[0]) < 400
    assert _row(table, "TensorFlow imported")[0] == "no"


def test_fer_side_runs_in_the_same_table(table: dict[str, list[str]]) -> None:
    missing = _fer_missing()
    if missing:
        pytest.skip(missing)
    assert _row(table, "Faces found")[1] == "1"
    median = _row(table, "End-to-end", "median")
    assert float(median[1]) > 0 and re.fullmatch(r"[\d.]+x (faster|slower)", median[2])
    assert median[3].startswith(">= 4x faster: ")
    assert float(_row(table, "Model file size")[1]) == pytest.approx(91, abs=2)
    assert float(_row(table, "MACs")[1].split()[0]) == pytest.approx(10.2, abs=0.2)
    assert _row(table, "TensorFlow imported")[1] == "yes"
    assert float(_row(table, "Peak RSS")[1]) > float(_row(table, "Peak RSS")[0])


def test_accuracy_rows_on_fer2013(table: dict[str, list[str]], fer2013_path: Path) -> None:
    for prefix in ACCURACY_ROWS:
        cells = _row(table, prefix)
        assert 0 <= float(cells[0]) <= 100
        if not _fer_missing():
            assert 50 < float(cells[1]) < 80  # fer scores 65.9% on all of PrivateTest
            assert re.fullmatch(r"[+-][\d.]+ pts", cells[2])
    assert "n=300" in next(m for m in table if m.startswith(ACCURACY_ROWS[0]))


def test_crowd_rows_when_the_votes_lie_beside_fer2013(table: dict[str, list[str]],
                                                      fer2013_path: Path) -> None:
    if not fer2013_path.with_name("ferplus.npz").is_file():
        pytest.skip(f"no ferplus.npz beside {fer2013_path}: the FER+ rows are left out")
    prefix = "FER+ PrivateTest (random subset), averaging=flip, 2 invokes (the default)"
    accuracy = _row(table, f"{prefix}: majority accuracy, our rule")
    barsoum = _row(table, f"{prefix}: majority accuracy, Barsoum's 7-class")
    recall = _row(table, f"{prefix}: mean per-emotion recall")
    ece = _row(table, f"{prefix}: calibration error")
    cross_entropy = _row(table, f"{prefix}: cross-entropy against the vote shares")
    recalls = [_row(table, f"{prefix}: recall of {emotion}") for emotion in
               ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")]
    assert all(0 <= float(r[0]) <= 100 for r in (accuracy, barsoum, recall, *recalls))
    assert 0 <= float(ece[0]) <= 1 and float(cross_entropy[0]) > 0
    if not _fer_missing():
        assert 50 < float(accuracy[1]) < 80  # fer agrees with 65.1% of all PrivateTest
        assert re.fullmatch(r"[+-][\d.]+ pts", accuracy[2])


def _run(repo_root: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=repo_root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_the_detector_section_when_named(repo_root: Path, tmp_path: Path) -> None:
    from benchmarks.detectors import SETTINGS, default_photos

    if not (default_photos() / "boxes.json").is_file():
        pytest.skip(f"faces-dev photos not found at {default_photos()} (set EMOEDGE_FACES_DEV)")
    out = tmp_path / "detector.md"
    text = _run(repo_root, "--only", "detector", "--quick", "--out", str(out))
    assert out.read_text(encoding="utf-8") == text
    assert "1 timed rounds, 1 thread" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "setting" not in line]
    assert [row.split(" | ")[0][2:] for row in rows] == list(SETTINGS)


def test_the_crop_section_when_named(repo_root: Path, tiny_model: Path,
                                     fer2013_path: Path) -> None:
    from benchmarks.crop import RULES

    text = _run(repo_root, "--only", "crop", "--faces", "12", "--model", str(tiny_model),
                "--data", str(fer2013_path))
    assert text.startswith("12 PublicTest faces")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "crop rule" not in line]
    assert len(rows) == 1 + sum(len(rules) for rules in RULES.values())  # + the pasted square
    assert "Geometry (medians over found faces): " in text


@pytest.mark.slow
def test_the_training_section_runs_the_trainer_at_each_precision(
        repo_root: Path, tmp_path: Path) -> None:
    from tests.trainer.fer_files import make_fer, write_npz

    data = write_npz(tmp_path / "tiny.npz", *make_fer(train_per_class=8, test_per_class=2))
    text = _run(repo_root, "--only", "training", "--data", str(data), "--train-faces", "32",
                "--train-epochs", "1")
    assert text.startswith("Trainer throughput: 32 Training faces, 1 epochs per run")
    precisions, parts = text.split("Where the time goes")

    def rows(table: str) -> dict[str, list[str]]:
        return {line.split(" | ")[0][2:]: line.split(" | ") for line in table.splitlines()
                if line.startswith("| ") and "precision" not in line}

    by_precision = rows(precisions)
    assert list(by_precision) == ["float32", "mixed_bfloat16"]
    assert by_precision["float32"][3] == "1.00x |"
    assert all(float(cells[1]) > 0 for cells in by_precision.values())
    # whole trainer, step alone, input pipeline alone, and the trainer's share of the step
    by_part = rows(parts)
    assert list(by_part) == ["float32", "mixed_bfloat16"]
    for whole, step, pipeline, share in (cells[1:5] for cells in by_part.values()):
        assert min(float(whole), float(step), float(pipeline)) > 0
        # the rates carry three significant figures, so the share reads back from them
        assert float(share.rstrip(" |")) == pytest.approx(float(whole) / float(step), rel=0.1,
                                                           abs=0.02)


def test_the_tracking_section_when_named(repo_root: Path, fer2013_path: Path,
                                         tmp_path: Path) -> None:
    """Real faces through YuNet, the shipped classifier and every tracker candidate: the
    shipped tracker follows each person with no identity switch, and per-person smoothing
    beats the figures from before."""
    from benchmarks.detectors import default_photos
    from benchmarks.tracking import CANDIDATES

    if not (default_photos() / "boxes.json").is_file():
        pytest.skip(f"faces-dev photos not found at {default_photos()} (set EMOEDGE_FACES_DEV)")
    if not fer2013_path.with_name("ferplus.npz").is_file():
        pytest.skip("FER+ votes (ferplus.npz) not beside FER2013")
    out = tmp_path / "tracking.md"
    text = _run(repo_root, "--only", "tracking", "--quick", "--data", str(fer2013_path),
                "--out", str(out))
    assert out.read_text(encoding="utf-8") == text
    header = next(line for line in text.splitlines() if line.startswith("| faces | sequence"))
    assert all(name in header for name in CANDIDATES)
    rows = [line.split(" | ") for line in text.splitlines()
            if line.startswith(("| photos |", "| fer 0 |"))]
    assert len(rows) == 12  # 6 sequences of photo faces, 6 of FER faces (one seed: --quick)
    shipped = [row[2] for row in rows]  # the shipped tracker on the truth boxes
    assert all(cell.endswith(" / 0") and float(cell.split(" / ")[0]) >= 0.95 for cell in shipped)
    everything = next(line for line in text.splitlines() if line.startswith("| all | "))
    per_frame, largest, tracked = (float(c.rstrip("% |")) for c in everything.split(" | ")[2:5])
    assert tracked > max(per_frame, largest)
