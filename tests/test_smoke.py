"""Both packages import and both CLIs answer --help."""

import subprocess
import sys


def test_packages_import() -> None:
    import edge
    import trainer

    assert edge.__name__ == "edge" and trainer.__name__ == "trainer"


def test_edge_cli_help() -> None:
    out = subprocess.run([sys.executable, "-m", "edge", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "detect" in out and "check-config" in out


def test_trainer_cli_help() -> None:
    out = subprocess.run([sys.executable, "-m", "trainer", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "--data" in out and "--limit" in out
