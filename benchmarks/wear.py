"""SD card wear: bytes the real daemon writes, per result and per day.

    nice -n 10 .venv/bin/python -m benchmarks.wear [--results 40] [--continuous-s 30]
                                                   [--idle-s 10]

Each scenario starts `python -m edge run` (image-folder source, the shipped model, a real
mosquitto, the spool in a fresh folder on this machine's disk) and reads `write_bytes` from
`/proc/<pid>/io` (bytes the process sent towards the block device, counted when the page
is dirtied; its log goes to /dev/null, as journald takes it on a Pi) once the daemon is
online, and again at the end of the scenario:

- triggered: `--results` MQTT captures one after the other, then `--idle-s` idle; the day is
  1,440 captures (one a minute) plus 86,400 s at the idle rate;
- the same with `mqtt.spool.write_after_s = 0` (every result on the card): the baseline;
- continuous: continuous mode at its defaults for `--continuous-s`, scaled to a day;
- outage: the broker stopped while `--results` interval captures are spooled, then started
  until the spool is empty; bytes per held result against the result's own size.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from benchmarks.support.broker import Broker, private_broker
from benchmarks.support.watcher import Watcher

from . import REPO
from .soak import config_toml, photos, spool_depth, wait_online

DAY_S = 86_400
RESULT = "emotion-edge/soak/result"
STATUS = "emotion-edge/soak/status"


@dataclass(frozen=True)
class Measured:
    name: str
    results: int
    written: int  # write_bytes over the scenario
    seconds: float
    payload: float  # mean result JSON size, bytes
    per_day: float


def write_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/io has no write_bytes")


class Daemon:
    """One daemon process on `broker`, its spool in `work`; a context manager."""

    def __init__(self, work: Path, broker: Broker, env: Mapping[str, str]) -> None:
        self.spool = work / "spool.sqlite"
        config = work / "config.toml"
        config.write_text(config_toml(photos(work / "images"), broker, self.spool, None))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=REPO,
            env={**os.environ, **env})

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.proc.wait(30)

    def written(self) -> int:
        return write_bytes(self.proc.pid)


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout_s} s: {what}")
        time.sleep(0.1)


def triggered(work: Path, broker: Broker, results: int, write_after_s: float,
              idle_s: float) -> Measured:
    watcher = Watcher(broker, (RESULT, STATUS))
    with Daemon(work, broker, {"EMOEDGE_MQTT__SPOOL__WRITE_AFTER_S":
                               str(write_after_s)}) as daemon:
        wait_online(watcher)
        before, started, sizes = daemon.written(), time.monotonic(), []
        for n in range(results):
            watcher.publish("emotion-edge/soak/capture/set", json.dumps({"request_id": f"w{n}"}))
            sizes.append(len(watcher.next(RESULT, timeout_s=30)[1]))
        wait_until(lambda: spool_depth(daemon.spool) == 0, 30, "the spool drained")
        busy, busy_s = daemon.written() - before, time.monotonic() - started
        idle_from = daemon.written()
        time.sleep(idle_s)  # measuring the idle rate over a fixed span
        idle = daemon.written() - idle_from
    watcher.close()
    per_day = busy / results * 1440 + idle / idle_s * DAY_S
    return Measured(f"triggered, write_after_s = {write_after_s:g}", results, busy + idle,
                    busy_s + idle_s, sum(sizes) / len(sizes), per_day)


def continuous(work: Path, broker: Broker, seconds: float) -> Measured:
    watcher = Watcher(broker, (RESULT, STATUS))
    env = {"EMOEDGE_TRIGGER__CONTINUOUS__IS_ENABLED": "true"}
    with Daemon(work, broker, env) as daemon:
        wait_online(watcher)
        before, started, sizes = daemon.written(), time.monotonic(), []
        while time.monotonic() - started < seconds:
            try:
                sizes.append(len(watcher.next(RESULT, timeout_s=1)[1]))
            except TimeoutError:
                continue
        written, elapsed = daemon.written() - before, time.monotonic() - started
    watcher.close()
    return Measured("continuous, defaults", len(sizes), written, elapsed,
                    sum(sizes) / max(1, len(sizes)), written / elapsed * DAY_S)


def outage(work: Path, broker: Broker, results: int) -> Measured:
    watcher = Watcher(broker, (RESULT, STATUS))
    with Daemon(work, broker, {"EMOEDGE_TRIGGER__INTERVAL_S": "0.5"}) as daemon:
        wait_online(watcher)
        wait_until(lambda: spool_depth(daemon.spool) == 0, 30, "an empty spool")
        before, started = daemon.written(), time.monotonic()
        broker.stop()
        wait_until(lambda: spool_depth(daemon.spool) >= results, 120, f"{results} spooled")
        held = spool_depth(daemon.spool)
        with contextlib.closing(sqlite3.connect(daemon.spool)) as db:
            payload = float(db.execute("SELECT AVG(LENGTH(payload)) FROM results").fetchone()[0])
        broker.start()
        wait_until(lambda: spool_depth(daemon.spool) == 0, 60, "the spool drained")
        written, elapsed = daemon.written() - before, time.monotonic() - started
    watcher.close()
    # an hour away at one capture a minute holds 60 results
    return Measured("broker away (per held result)", held, written, elapsed, payload,
                    written / held * 60)


def table(rows: list[Measured]) -> str:
    lines = ["| scenario | results | bytes written | bytes per result | result JSON, bytes "
             "| per day (outage: per hour away) |", "|---|---|---|---|---|---|"]
    for m in rows:
        per_result = m.written / max(1, m.results)
        lines.append(f"| {m.name} | {m.results} | {m.written:,} | {per_result:,.0f} "
                     f"| {m.payload:,.0f} | {m.per_day / 1e6:.2f} MB |")
    return "\n".join(lines)


def measure(results: int, continuous_s: float, idle_s: float) -> list[Measured]:
    """Every scenario, each with a daemon and a broker of its own."""
    scenarios: list[Callable[[Path, Broker], Measured]] = [
        functools.partial(triggered, results=results, write_after_s=2.0, idle_s=idle_s),
        functools.partial(triggered, results=results, write_after_s=0.0, idle_s=idle_s),
        functools.partial(continuous, seconds=continuous_s),
        functools.partial(outage, results=results)]
    rows = []
    # in the checkout, not /tmp: that may be a tmpfs, and then nothing counts as written
    with tempfile.TemporaryDirectory(prefix="emotion-edge-wear-", dir=REPO) as folder:
        for n, run in enumerate(scenarios):
            work = Path(folder) / f"{n}"
            (work / "broker").mkdir(parents=True)
            broker = private_broker(work / "broker")
            broker.start()
            try:
                rows.append(run(work, broker))
            finally:
                broker.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wear",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--results", type=int, default=40)
    parser.add_argument("--continuous-s", type=float, default=30.0)
    parser.add_argument("--idle-s", type=float, default=10.0)
    args = parser.parse_args(argv)
    print(table(measure(args.results, args.continuous_s, args.idle_s)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
