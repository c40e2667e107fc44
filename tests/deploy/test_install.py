"""scripts/install-pi.sh, run piecewise on this machine: its argument parsing, and its
functions sourced one by one with stub commands (apt-get, runuser, ...) where they would
change the system. The whole install runs on a Pi (or an emulated bookworm) only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install-pi.sh"


def stub(folder: Path, name: str, body: str) -> None:
    """A command `name` in `folder` that runs the shell `body` (and records its call)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{folder}/calls.log"\n{body}\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def bash(script: str, stubs: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`script` run after sourcing install-pi.sh (its functions only), stubs first on PATH."""
    path = f"{stubs}:{os.environ['PATH']}" if stubs else os.environ["PATH"]
    return subprocess.run(["bash", "-c", f'set -euo pipefail; . "{INSTALL}"; {script}'],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PATH": path, **env})


def test_help_prints_the_usage_and_changes_nothing() -> None:
    proc = subprocess.run(["bash", str(INSTALL), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("Usage: ")
    assert "--no-start" in proc.stdout and "--help" in proc.stdout


@pytest.mark.parametrize("argv", [["--bogus"], ["--no-start", "-x"], ["now"]])
def test_an_unknown_option_exits_2_before_changing_anything(tmp_path: Path,
                                                            argv: list[str]) -> None:
    stubs = tmp_path / "bin"
    stub(stubs, "id", "echo 1000")  # were parsing broken, the install would stop as non-root
    for command in ("apt-get", "useradd", "usermod", "install", "systemctl", "runuser"):
        stub(stubs, command, "exit 1")
    proc = subprocess.run(["bash", str(INSTALL), *argv], capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"})
    assert proc.returncode == 2 and "unknown option" in proc.stderr and "Usage: " in proc.stderr
    assert not (stubs / "calls.log").exists()


@pytest.mark.parametrize(("numpy_major", "expected"), [
    ("1", ["numpy<2", "opencv-python-headless<4.12", "ml_dtypes<0.6"]), ("2", [])])
def test_numpy_1_pins_the_set_that_resolves(tmp_path: Path, numpy_major: str,
                                             expected: list[str]) -> None:
    python = tmp_path / "bin"
    stub(python, "python3", f"exit {0 if numpy_major == '1' else 1}")  # the numpy-1 probe
    out = tmp_path / "constraints.txt"
    proc = bash(f'PYTHON="{python}/python3"; write_constraints "{out}"')
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().split() == expected


def test_packages_missing_from_the_apt_archive_are_skipped_with_a_reason(
        tmp_path: Path) -> None:
    stubs = tmp_path / "bin"
    stub(stubs, "apt-get", "exit 0")
    stub(stubs, "apt-cache", 'case "$2" in python3-lgpio) echo "  Candidate: 0.2.2-1";; '
                             '*) echo "  Candidate: (none)";; esac')
    proc = bash("is_pi() { true; }; install_packages", stubs)  # plain Debian on a Pi
    assert proc.returncode == 0, proc.stderr
    assert "skipping python3-picamera2: not in this system's apt sources" in proc.stdout
    assert 'camera.kind = "opencv"' in proc.stdout
    install = [line for line in (stubs / "calls.log").read_text().splitlines()
               if line.startswith("apt-get install")]
    assert install and install[0].endswith("python3-venv python3-lgpio")


def test_check_config_sees_the_environment_file(tmp_path: Path) -> None:
    stubs = tmp_path / "bin"
    stub(stubs, "install", "exit 0")
    stub(stubs, "runuser", f'echo "host=$EMOTION_EDGE_MQTT__HOST" > "{tmp_path}/seen"')
    conf = tmp_path / "etc"
    conf.mkdir()
    for name in ("config.toml", "mqtt-password"):
        (conf / name).touch()
    env_file = tmp_path / "default"
    env_file.write_text("# comment\nEMOTION_EDGE_MQTT__HOST=broker.lan\n")
    proc = bash(f'CONF_DIR="{conf}"; ENV_FILE="{env_file}"; install_config', stubs)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "seen").read_text() == "host=broker.lan\n"


@pytest.mark.slow
def test_upgrade_builds_out_of_tree_drops_deleted_modules_and_remakes_a_stale_venv(
        tmp_path: Path) -> None:
    src = tmp_path / "clone"
    (src / "fakepkg").mkdir(parents=True)
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = '
        '"setuptools.build_meta"\n[project]\nname = "emotion-edge"\nversion = "0.0.1"\n'
        '[tool.setuptools]\npackages = ["fakepkg"]\n')
    for name in ("__init__.py", "kept.py", "removed.py"):
        (src / "fakepkg" / name).touch()
    venv = tmp_path / "venv"
    stub(venv / "bin", "python", "echo 3.9")  # a venv left by an older Python
    constraints = tmp_path / "constraints.txt"
    constraints.touch()
    steps = (f'SRC="{src}"; VENV="{venv}"; PYTHON="{sys.executable}"; make_venv; '
             f'install_project "{constraints}" ""')
    first = bash(steps)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "the venv is for Python 3.9" in first.stdout
    site = next((venv / "lib").glob("python3.*/site-packages"))
    assert (site / "fakepkg" / "removed.py").exists()
    (src / "fakepkg" / "removed.py").unlink()  # upstream deletes a module; same version
    second = bash(steps)
    assert second.returncode == 0, second.stdout + second.stderr
    assert (site / "fakepkg" / "kept.py").exists()
    assert not (site / "fakepkg" / "removed.py").exists()
    assert sorted(p.name for p in src.iterdir()) == ["fakepkg", "pyproject.toml"]  # clean
