"""Soak: many captures through the real daemon and a real broker that restarts now and then.

    nice -n 10 .venv/bin/python -m benchmarks.soak [--captures 20000] [--restart-every 2000]
                                                    [--report-every 1000] [--model M.tflite]

The daemon runs as `python -m edge run` on an image-folder source (the bundled photo and
the demo images), its spool in a temporary folder; captures are MQTT commands with request
ids, sent four at a time and counted when their result arrives. Every `--restart-every`
results the broker is stopped and started again (the daemon reconnects by itself). Every
`--report-every` results it prints the daemon's RSS, open file descriptors, threads and
spool depth. Nothing may grow: RSS within +5 MB of the value after the first report, fds
and threads flat, the spool back to 0 at the end. Not a timed test: it takes a while.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from benchmarks.support.broker import Broker, private_broker
from benchmarks.support.watcher import Watcher

from . import REPO

BATCH = 4  # commands in flight at once
RSS_LIMIT_MB = 5.0


@dataclass(frozen=True)
class Sample:
    results: int
    rss_mb: float
    fds: int
    threads: int
    spool: int
    elapsed_s: float

    def line(self) -> str:
        return (f"{self.results:>7} {self.rss_mb:>8.1f} {self.fds:>5} {self.threads:>8} "
                f"{self.spool:>6} {self.elapsed_s:>8.0f}")


def sample(pid: int, spool: Path, results: int, started: float) -> Sample:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {k: v.split() for k, _, v in (line.partition(":") for line in status)}
    return Sample(results, int(fields["VmRSS"][0]) / 1024, len(list(Path(f"/proc/{pid}/fd")
                  .iterdir())), int(fields["Threads"][0]), spool_depth(spool),
                  time.monotonic() - started)


def spool_depth(path: Path) -> int:
    try:
        with sqlite3.connect(path) as db:
            return int(db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.Error:
        return 0


def config_toml(images: Path, broker: Broker, spool: Path, model: Path | None) -> str:
    classifier = f'[classifier]\nmodel_path = "{model}"\n' if model else ""
    return (f'device_id = "soak"\nlog_level = "WARNING"\n'
            f'[source]\nkind = "images"\npath = "{images}"\n{classifier}'
            f'[worker]\nmin_interval_s = 0\nqueue_size = 16\n[trigger.button]\n'
            f'is_enabled = false\n[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n'
            f'keepalive_s = 5\nreconnect_min_s = 0.1\nreconnect_max_s = 0.5\n'
            f'[mqtt.discovery]\nis_enabled = false\n[mqtt.spool]\npath = "{spool}"\n')


def photos(folder: Path) -> Path:
    folder.mkdir()
    with resources.as_file(resources.files("edge.assets") / "astronaut.jpg") as photo:
        shutil.copy(photo, folder / "astronaut.jpg")
    for extra in sorted((REPO / "scripts" / "demo_images").glob("*.jpg"))[:4]:
        shutil.copy(extra, folder / extra.name)
    return folder


def run_batch(watcher: Watcher, first: int, seen: set[str]) -> int:
    """Send BATCH commands and wait for their results; how many new results came."""
    topic = "emotion-edge/soak/capture/set"
    wanted = {f"s{first + i}" for i in range(BATCH)}
    for request_id in sorted(wanted):
        watcher.publish(topic, json.dumps({"request_id": request_id}))
    before = len(seen)
    deadline = time.monotonic() + 30
    while wanted and time.monotonic() < deadline:
        try:
            result = json.loads(watcher.next("emotion-edge/soak/result", timeout_s=5)[1])
        except TimeoutError:
            continue
        seen.add(result["id"])
        wanted.discard(result["request_id"])
    return len(seen) - before


def wait_online(watcher: Watcher) -> None:
    while watcher.next("emotion-edge/soak/status", timeout_s=60)[1] != b"online":
        pass


def soak(args: argparse.Namespace, work: Path) -> list[Sample]:
    broker_dir = work / "broker"
    broker_dir.mkdir()
    broker = private_broker(broker_dir)
    broker.start()
    spool = work / "spool.sqlite"
    config = work / "config.toml"
    config.write_text(config_toml(photos(work / "images"), broker, spool, args.model))
    log = (work / "daemon.log").open("wb")
    daemon = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config)],
                              stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    watcher = Watcher(broker, ("emotion-edge/soak/result", "emotion-edge/soak/status"))
    samples: list[Sample] = []
    try:
        wait_online(watcher)
        started, seen, sent = time.monotonic(), set[str](), 0
        print(f"{'results':>7} {'rss_MB':>8} {'fds':>5} {'threads':>8} {'spool':>6} "
              f"{'time_s':>8}", flush=True)
        next_report, next_restart = args.report_every, args.restart_every
        while len(seen) < args.captures:
            run_batch(watcher, sent, seen)
            sent += BATCH
            if len(seen) >= next_report:
                samples.append(sample(daemon.pid, spool, len(seen), started))
                print(samples[-1].line(), flush=True)
                next_report += args.report_every
            if len(seen) >= next_restart and len(seen) < args.captures:
                broker.restart()
                wait_online(watcher)
                next_restart += args.restart_every
        deadline = time.monotonic() + 30
        while spool_depth(spool) and time.monotonic() < deadline:
            time.sleep(0.2)
        samples.append(sample(daemon.pid, spool, len(seen), started))
        print(samples[-1].line(), "(end)", flush=True)
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(30)
        print(f"daemon exit status {code}; log: {work / 'daemon.log'}", flush=True)
        watcher.close()
        broker.stop()
    return samples


def verdict(samples: list[Sample]) -> bool:
    base, worst = samples[0], max(samples, key=lambda s: s.rss_mb)
    fds = {s.fds for s in samples}
    threads = {s.threads for s in samples}
    is_ok = (worst.rss_mb - base.rss_mb <= RSS_LIMIT_MB and len(fds) == 1
             and len(threads) == 1 and samples[-1].spool == 0)
    print(f"RSS {base.rss_mb:.1f} MB after {base.results}, at most {worst.rss_mb:.1f} MB "
          f"(+{worst.rss_mb - base.rss_mb:.1f}, limit +{RSS_LIMIT_MB:.0f}); fds "
          f"{sorted(fds)}; threads {sorted(threads)}; spool at the end {samples[-1].spool}: "
          f"{'OK' if is_ok else 'GROWTH'}", flush=True)
    return is_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captures", type=int, default=20_000)
    parser.add_argument("--restart-every", type=int, default=2_000)
    parser.add_argument("--report-every", type=int, default=1_000)
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="emotion-edge-soak-"))
    try:
        return 0 if verdict(soak(args, work)) else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
