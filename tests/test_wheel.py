"""The wheel stands alone: built from the package sources only (no models/, no tests/),
installed non-editable into a folder, and run from an empty directory, `emotion-edge`
finds its model and its bench photo inside the package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parent.parent
# benchmarks/ and tests/ sit beside the packages in the checkout; copied to see the wheel
# leave them out
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "edge", "trainer", "benchmarks", "tests")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the installed wheel (`pip install --target`): edge/, trainer/, bin/."""
    src = tmp_path_factory.mktemp("src")
    for name in PACKAGE_SOURCES:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, src / name)  # type: ignore[operator]
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target), str(src)],
                   check=True, capture_output=True, timeout=180)
    return target


def run(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(installed)}  # before the editable install
    return subprocess.run([str(installed / "bin" / "emotion-edge"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_wheel_holds_the_model_its_sidecar_and_the_photo(installed: Path) -> None:
    assets = installed / "edge" / "assets"
    for name in ("emotion-edge.tflite", "emotion-edge.json", "astronaut.jpg"):
        assert (assets / name).is_file() and not (assets / name).is_symlink(), name
    assert (installed / "edge" / "py.typed").is_file()


def test_the_wheel_leaves_out_what_users_never_import(installed: Path) -> None:
    """The benchmarks, the tests and their broker and watcher (benchmarks/support) stay in the
    checkout."""
    assert (installed / "edge").is_dir() and (installed / "trainer").is_dir()
    for name in ("benchmarks", "tests", "edge/testing"):
        assert not (installed / name).exists(), name
    packaged = {p.relative_to(installed).parts[0] for p in installed.rglob("*.py")}
    assert packaged == {"edge", "trainer"}, packaged


def test_detect_from_an_empty_directory_uses_the_packaged_model(
        installed: Path, tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes((installed / "edge" / "assets" / "astronaut.jpg").read_bytes())
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run(installed, empty, "detect", str(photo), "--json")
    assert proc.returncode == 0, proc.stderr
    [result] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(result["faces"]) == 1 and result["emotion"] is not None
    assert result["model"].startswith("emotion-edge-cnn@")
    assert result["source"] == str(photo)
    where = subprocess.run([sys.executable, "-c", "import edge; print(edge.__file__)"],
                           cwd=empty, env={**os.environ, "PYTHONPATH": str(installed)},
                           capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).is_relative_to(installed)  # the wheel ran, not the checkout


def test_bench_finds_its_photo_inside_the_package(installed: Path, tmp_path: Path) -> None:
    proc = run(installed, tmp_path, "bench", "--frames", "3")
    assert proc.returncode == 0, proc.stderr
    assert "1 image(s), 1.00 faces/frame" in proc.stdout
    assert "emotion-edge-cnn@" in proc.stdout
