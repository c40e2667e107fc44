"""Run `emotion-edge run` as a real subprocess with a TOML config written for the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Enough TOML for a config: nested tables of str, bool, int, float."""
    plain = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    lines = [f"[{prefix}]"] if prefix and plain else []
    for key, value in plain.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        else:
            text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines.append(f"{key} = {text}")
    out = "\n".join(lines) + "\n" if lines else ""
    for key, value in tables.items():
        out += to_toml(value, f"{prefix}.{key}" if prefix else key)
    return out


class Daemon:
    """One daemon process; its stdout (the log) goes to `<workdir>/daemon-N.log`."""

    runs = 0

    def __init__(self, workdir: Path, config: dict[str, Any],
                 env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.config_path = workdir / "config.toml"
        self.config_path.write_text(to_toml(config))
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("EMOEDGE_", "EMOTION_EDGE_", "NOTIFY_SOCKET",
                                     "WATCHDOG_"))}
        self.env = {**base, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "daemon.log"

    def start(self) -> None:
        Daemon.runs += 1
        self.log_path = self.workdir / f"daemon-{Daemon.runs}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "edge", "run", "--config", str(self.config_path)],
                stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO)

    def stop(self, timeout_s: float = 20.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    @property
    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


class NotifySocket:
    """What systemd would be: a bound AF_UNIX datagram socket collecting messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))

    def wait_for(self, field: str, timeout_s: float, count: int = 1,
                 is_prefix: bool = False) -> list[str]:
        """Messages up to and including the `count`th holding `field` (a line, or the start
        of one when `is_prefix`); TimeoutError if fewer came within timeout_s."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout_s

        def holds(message: str) -> bool:
            lines = message.splitlines()
            return any(line.startswith(field) for line in lines) if is_prefix else field in lines

        while sum(map(holds, seen)) < count:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                seen.append(self.sock.recv(4096).decode())
            except TimeoutError:
                raise TimeoutError(f"{count} x {field} not within {timeout_s} s; got {seen}"
                                   ) from None
        return seen

    def flush(self) -> list[str]:
        """The messages already received, without waiting."""
        seen = []
        self.sock.setblocking(False)
        try:
            while True:
                seen.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            return seen
        finally:
            self.sock.setblocking(True)

    def collect(self, duration_s: float) -> list[str]:
        seen = []
        deadline = time.monotonic() + duration_s
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                seen.append(self.sock.recv(4096).decode())
            except TimeoutError:
                break
        return seen
