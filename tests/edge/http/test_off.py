"""Off by default: the daemon's modules load no server and no metrics library until
`[http] is_enabled` (a fresh interpreter, so no other test's imports count)."""

from __future__ import annotations

import subprocess
import sys

from edge.config import Settings
from tests.edge.daemon import REPO

PROBE = ("import sys, edge.app, edge.cli, edge.config; "
         "print(sorted(m for m in ('waitress', 'prometheus_client', 'edge.http.server', "
         "'edge.http.metrics') if m in sys.modules))")


def test_off_by_default() -> None:
    assert Settings.model_validate({}).http.is_enabled is False


def test_the_daemon_modules_load_no_server_while_off() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout
    assert out.strip() == "[]"
