"""The daemon's memory with continuous mode and its tracker against the same daemon without:
`emotion-edge run` (the real composition: images camera over the annotated photos, YuNet,
the shipped model, the MQTT publisher with its spool, no broker reachable so results stay
spooled) runs for a while in each mode, one after the other; its peak resident set (VmHWM)
and its resident set at the end (VmRSS) are read from /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from . import REPO

CONTINUOUS = '[trigger.continuous]\nis_enabled = true\nmax_fps = 5.0\n'
INTERVAL = "[trigger]\ninterval_s = 0.2\n"  # the same 5 frames a second, no tracking


def _config(folder: Path, photos: Path, model: Path, mode: str) -> Path:
    path = folder / "config.toml"
    trigger = (INTERVAL + "[trigger.button]\nis_enabled = false\n" if mode == "interval" else
               "[trigger.button]\nis_enabled = false\n" + CONTINUOUS)
    path.write_text(
        f'device_id = "rss"\n[source]\nkind = "images"\npath = "{photos}"\n'
        f'[classifier]\nmodel_path = "{model}"\n'
        f'[mqtt]\nhost = "127.0.0.1"\nport = 9\n'  # the discard port: nothing answers
        f'[mqtt.spool]\npath = "{folder / "spool.sqlite"}"\n' + trigger, encoding="utf-8")
    return path


def _memory(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return (int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024)


def measure(photos: Path, model: Path, mode: str, seconds: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(Path(tmp), photos, model, mode)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("EMOEDGE_", "EMOTION_EDGE_"))}
        proc = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config)],
                                cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            time.sleep(seconds)  # a soak of fixed length: what is measured is its memory
            if proc.poll() is not None:
                raise SystemExit(f"the daemon ({mode}) stopped early: exit {proc.returncode}")
            return _memory(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


def lines(photos: Path, model: Path, seconds: float) -> Iterator[str]:
    yield (f"Daemon memory, {seconds:g} s of 5 frames a second over the photos "
           "(`emotion-edge run`, YuNet, the shipped model, spooling)")
    yield ""
    yield "| mode | peak RSS (MB) | RSS at the end (MB) |"
    yield "|---|---|---|"
    base = None
    for mode, name in (("interval", "interval trigger, no tracking (baseline)"),
                       ("continuous", "continuous mode, tracks (lap) and per-person smoothing")):
        peak, now = measure(photos, model, mode, seconds)
        ratio = "" if base is None else f" ({peak - base:+.1f} MB vs baseline)"
        base = peak if base is None else base
        yield f"| {name} | {peak:.1f}{ratio} | {now:.1f} |"
