"""scripts/install-pi.sh, run piecewise on this machine: its argument parsing, its
functions sourced one by one with stub commands (apt-get, ...) where they would change the
system, and its config check for real, as an unprivileged user in a temporary root. The
whole install runs on a Pi (or an emulated bookworm: ../shared/tools/pi_emulated.sh) only."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install-pi.sh"
UNIT = REPO / "systemd" / "emotion-edge.service"
OS_PYTHON = Path("/usr/bin/python3")  # install-pi.sh's PYTHON
# An unprivileged user whose group has its name, on every Debian: the installer's user and
# the gpio group cannot be made here without changing this machine.
USER = "daemon"


def stub(folder: Path, name: str, body: str) -> None:
    """A command `name` in `folder` that runs the shell `body` (and records its call)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{folder}/calls.log"\n{body}\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def bash(script: str, stubs: Path | None = None, cwd: Path | None = None,
         **env: str) -> subprocess.CompletedProcess[str]:
    """`script` run after sourcing install-pi.sh (its functions only), stubs first on PATH."""
    path = f"{stubs}:{os.environ['PATH']}" if stubs else os.environ["PATH"]
    return subprocess.run(["bash", "-c", f'set -euo pipefail; . "{INSTALL}"; {script}'],
                          capture_output=True, text=True, timeout=300, cwd=cwd,
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
    for command in ("apt-get", "useradd", "usermod", "install", "systemctl", "setpriv"):
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
    assert 'source.kind = "opencv"' in proc.stdout
    install = [line for line in (stubs / "calls.log").read_text().splitlines()
               if line.startswith("apt-get install")]
    assert install and install[0].endswith("python3-venv python3-lgpio")


@pytest.fixture
def root() -> Iterator[Path]:
    """A temporary root the unprivileged user can walk (pytest's tmp_path is root's alone),
    with the folder the installer is started from: root's, not writable by that user."""
    if os.geteuid() != 0:
        pytest.skip("needs root, as the installer: it switches to an unprivileged user")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        pytest.skip(f"no user {USER!r} to run the check as")
    # The check imports this checkout's `edge` as that user: every folder above it must let
    # others in (a `mktemp -d` folder is 0700, so a clone made there cannot pass).
    closed = next((p for p in (REPO, *REPO.parents) if not p.stat().st_mode & stat.S_IXOTH), None)
    if closed is not None:
        pytest.skip(f"{USER!r} cannot enter {closed} (mode {stat.S_IMODE(closed.stat().st_mode):o})"
                    ", so it cannot import this checkout; clone into a folder others can enter")
    same_minor = f"import sys; sys.exit(sys.version_info[:2] != {sys.version_info[:2]})"
    if not OS_PYTHON.exists() or subprocess.run([OS_PYTHON, "-c", same_minor]).returncode:
        pytest.skip(f"{OS_PYTHON} is not Python {sys.version_info[0]}.{sys.version_info[1]}, "
                    "whose packages the check imports")
    path = Path(tempfile.mkdtemp(prefix="emotion-edge-root-"))
    try:
        path.chmod(0o755)
        (path / "home" / "pi" / "emotion-edge").mkdir(parents=True)
        for folder in ("etc/default", "var/lib", "opt/emotion-edge"):
            (path / folder).mkdir(parents=True)
        yield path
    finally:
        shutil.rmtree(path)


def os_venv(root: Path) -> Path:
    """A venv of the OS's Python, as install-pi.sh makes in /opt/emotion-edge/venv, holding
    this checkout's emotion-edge and its installed packages (this interpreter may live in
    root's home, out of the user's reach)."""
    venv = root / "opt" / "emotion-edge" / "venv"
    subprocess.run([OS_PYTHON, "-m", "venv", "--without-pip", "--system-site-packages", venv],
                   check=True)
    site = next((venv / "lib").glob("python3.*/site-packages"))
    (site / "checkout.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    command = venv / "bin" / "emotion-edge"
    command.write_text(f"#!{venv}/bin/python\nimport sys\nfrom edge.cli import main\n"
                       "sys.exit(main())\n")
    command.chmod(0o755)
    return venv


def check_config(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """install-pi.sh's config steps, for real, with the shipped unit, run by root from the
    user's clone (a folder the service user cannot write). Only the unit's user and groups
    change: the installer's own and the gpio group do not exist on this machine."""
    unit = root / "emotion-edge.service"
    unit.write_text(UNIT.read_text()
                    .replace("User=emotion-edge", f"User={USER}")
                    .replace("Group=emotion-edge", f"Group={USER}")
                    .replace("SupplementaryGroups=video gpio", "SupplementaryGroups="))
    conf, env_file = root / "etc" / "emotion-edge", root / "etc" / "default" / "emotion-edge"
    steps = (f'ROOT="{root}"; UNIT_SRC="{unit}"; SERVICE={USER}; VENV="{os_venv(root)}"; '
             f'CONF_DIR="{conf}"; ENV_FILE="{env_file}"; install_config; check_config')
    return bash(steps, cwd=root / "home" / "pi" / "emotion-edge", **env)


def test_a_fresh_config_passes_the_check_as_the_unit_runs_it(root: Path) -> None:
    """Issue 24: the check ran in the installer's folder without $STATE_DIRECTORY, so the
    spool check failed on every fresh install."""
    proc = check_config(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{root}/etc/emotion-edge/config.toml: OK" in proc.stdout
    state = root / "var" / "lib" / "emotion-edge"
    assert f"STATE_DIRECTORY={state}" in proc.stdout
    info = state.stat()
    assert (pwd.getpwuid(info.st_uid).pw_name, stat.S_IMODE(info.st_mode)) == (USER, 0o700)
    assert not list(root.rglob("spool.sqlite*"))  # checked, not created


def test_the_check_reads_the_environment_file_and_not_the_installers_environment(
        root: Path) -> None:
    """EnvironmentFile= reaches the check, run as the unprivileged user; the shell that ran
    sudo does not (systemd starts the service with an environment of its own)."""
    passed = check_config(root, EMOEDGE_MQTT__PORT="70000")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    env_file = root / "etc" / "default" / "emotion-edge"
    clone = root / "home" / "pi" / "emotion-edge"  # root's: only root could write there
    env_file.write_text(f"{env_file.read_text()}EMOEDGE_MQTT__SPOOL__PATH={clone}/s.db\n")
    failed = check_config(root)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"spool: cannot open the result spool {clone}/s.db: {clone} is not writable by " \
           "this user" in failed.stdout
    assert "then run this again" in failed.stderr


def test_the_units_environment_keeps_only_qemus_settings_from_the_installers() -> None:
    """Under qemu-user (tools/pi_emulated.sh), QEMU_CPU picks the emulated core at every
    exec: dropped, the check ran on qemu's default core, whose LiteRT computes wrong answers,
    and the golden vectors refused it. Nothing else of the installer's shell gets through."""
    proc = bash(f'UNIT_SRC="{UNIT}"; ROOT=""; (unit_environment nobody; env)',
                QEMU_CPU="cortex-a72", EMOEDGE_MQTT__PORT="1")
    assert proc.returncode == 0, proc.stderr
    env = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    assert env["QEMU_CPU"] == "cortex-a72" and env["USER"] == "nobody"
    assert "EMOEDGE_MQTT__PORT" not in env


def test_a_failure_after_changes_says_what_changed_and_how_to_undo_it() -> None:
    proc = bash('trap report_changes EXIT; changed "/etc/x"; changed "the user y"; die boom')
    assert proc.returncode == 1
    assert "stopped after changing this system: /etc/x, the user y" in proc.stderr
    assert "scripts/uninstall-pi.sh" in proc.stderr and "--purge" in proc.stderr
    quiet = bash('trap report_changes EXIT; die "before any change"')
    assert quiet.returncode == 1 and "stopped after" not in quiet.stderr


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


def test_every_link_in_the_installed_readme_lands_in_the_installed_copy(tmp_path: Path) -> None:
    """The README links into docs/ and to the model card (which shows its plots): a Pi user
    reading /opt/emotion-edge/README.md must find each of them there."""
    from tests.test_docs import local_links

    prefix = tmp_path / "opt"
    proc = bash(f'SRC="{REPO}"; PREFIX="{prefix}"; install_files')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pages, seen = [prefix / "README.md"], set()
    while pages:
        page = pages.pop()
        seen.add(page)
        for target, dest, _ in local_links(page):
            assert dest.exists(), f"installed {page.relative_to(prefix)}: {target} is missing"
            if dest.suffix == ".md" and dest not in seen:
                pages.append(dest)
    assert {p.relative_to(prefix).parts[0] for p in seen} == {"README.md", "docs", "models"}
