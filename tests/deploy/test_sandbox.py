"""The daemon under the unit's system-call filter and `MemoryDenyWriteExecute=`, reproduced
without systemd by tests/deploy/sandbox.py (seccomp + prctl, inherited by children)."""

from __future__ import annotations

import ctypes.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "emotion-edge.service"
SANDBOX = Path(__file__).with_name("sandbox.py")

PROBE = """
import mmap, os
def denied(what, call):
    try:
        call()
    except OSError:
        print(what, "denied")
denied("W+X memory", lambda: mmap.mmap(-1, 4096, prot=7))
denied("sched_setaffinity", lambda: os.sched_setaffinity(0, os.sched_getaffinity(0)))
denied("chroot", lambda: os.chroot("/"))
"""


def _sandboxed(*command: str, timeout_s: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SANDBOX), str(UNIT), "--", *command],
                          capture_output=True, text=True, timeout=timeout_s, cwd=REPO)


@pytest.fixture(scope="module")
def sandbox() -> None:
    if shutil.which("systemd-analyze") is None or ctypes.util.find_library("seccomp") is None:
        pytest.skip("needs systemd-analyze and libseccomp (apt install systemd libseccomp2)")
    probe = _sandboxed(sys.executable, "-c", "pass", timeout_s=60)
    if "PR_SET_MDWE" in probe.stderr:
        pytest.skip("the kernel has no PR_SET_MDWE (Linux 6.3+): " + probe.stderr[-200:])
    assert probe.returncode == 0, probe.stderr


def test_sandbox_denies_what_the_unit_denies(sandbox: None) -> None:
    """The sandbox is real: W+X memory, @resources and @privileged calls fail."""
    out = _sandboxed(sys.executable, "-c", PROBE, timeout_s=60).stdout
    assert out.split("\n")[:3] == ["W+X memory denied", "sched_setaffinity denied",
                                   "chroot denied"], out


@pytest.mark.slow
def test_daemon_and_demo_run_inside_the_sandbox(sandbox: None, demo_model: Path) -> None:
    """numpy, OpenCV, LiteRT, paho, SQLite and sd_notify work with the unit's restrictions."""
    proc = _sandboxed(sys.executable, "-m", "scripts.demo", "--broker", "amqtt",
                      "--model", str(demo_model), "--captures", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "request demo-1: " in proc.stdout and "request demo-2: " in proc.stdout
    assert "exit status 0" in proc.stdout


def test_under_the_units_filter_the_clock_state_comes_from_timesyncd(
        sandbox: None, tmp_path: Path) -> None:
    """The filter refuses adjtimex even to read (EPERM), so results would always say
    `time_synced: null`; systemd-timesyncd's flag answers instead."""
    timesync = tmp_path / "timesync"
    timesync.mkdir()
    probe = ("import ctypes, sys; from pathlib import Path; "
             "from edge.clock import SyncState, _load_adjtimex, _Timex; "
             "adjtimex = _load_adjtimex(); assert adjtimex is not None; "
             "print(adjtimex(ctypes.byref(_Timex())), ctypes.get_errno()); "
             "print(SyncState(timesyncd_dir=Path(sys.argv[1])).is_synced())")
    before = _sandboxed(sys.executable, "-c", probe, str(timesync), timeout_s=60)
    assert before.stdout.split("\n")[:2] == ["-1 1", "False"], before.stdout + before.stderr
    (timesync / "synchronized").touch()
    after = _sandboxed(sys.executable, "-c", probe, str(timesync), timeout_s=60)
    assert after.stdout.split("\n")[:2] == ["-1 1", "True"], after.stdout + after.stderr


HTTP_PROBE = """
import http.client, socket
import numpy as np
from edge.http.config import HttpConfig
from edge.http.live import LiveView
from edge.http.metrics import Metrics
from edge.http.routes import HttpApp
from edge.http.server import HttpServer
from edge.http.status import Status
from edge.ports import Frame, Result

status = lambda: Status("dev", "m@1", "YunetFaceDetector", True, "b:1", 0, 0, False, 1, 0,
                        None, "connected")
live, metrics = LiveView(), Metrics(status)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
with HttpServer(HttpConfig(port=port), HttpApp(status, live, metrics, None)) as server:
    server.start()
    live.watch()
    live.offer(Result("r1", None, "dev", "cli", "t", (), {}, "m@1"),
               Frame(np.zeros((48, 64, 3), np.uint8), "probe", 0.0))
    for path in ("/metrics", "/healthz", "/frame.jpg?id=r1"):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", path)
        answer = conn.getresponse()
        print(path, answer.status, len(answer.read()) > 0)
        conn.close()
"""


def test_the_http_endpoint_serves_inside_the_sandbox(sandbox: None) -> None:
    """waitress (bind, listen, accept, poll), prometheus_client and the JPEG encoder work
    under the unit's system-call filter and MemoryDenyWriteExecute=."""
    proc = _sandboxed(sys.executable, "-c", HTTP_PROBE, timeout_s=60)
    assert proc.stdout.split("\n")[:3] == ["/metrics 200 True", "/healthz 200 True",
                                           "/frame.jpg?id=r1 200 True"], proc.stdout + proc.stderr
