"""The HTTP endpoint's cost: endpoint off vs on and idle vs one page open at 5 fps, and how
fast bad requests are answered.

    nice -n 10 .venv/bin/python -m benchmarks.endpoint [--rounds 8] [--seconds 10] [--out F.md]

Each round starts the real daemon (`python -m edge run`, the shipped model, YuNet, an
image-folder source, a capture every 0.2 s, a private mosquitto) once per condition, the
conditions in a rotated order so each sees the same machine load: `off` (no [http]),
`idle` ([http] on, nobody connected) and `watched` (a client doing what the page does:
/api/state?frames=1 every 200 ms, each new frame fetched). Per condition: the median
capture latency (`latency_ms.total` of every result, from MQTT), the median RSS at the end
of a window, start-up (spawn to READY=1) and, in a window with no captures, CPU seconds
per minute. Latency ratios are paired: each round's median against `off` in the same round,
so slow drifts of the machine's load cancel; the table gives their median and range. Then
one daemon with the endpoint on gets each bad request of tests/edge/http/test_hostile.py;
the seconds to its answer (or to the server closing the connection) are printed, while
captures go on.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.support.broker import Broker, free_port, private_broker
from benchmarks.support.watcher import Watcher

from .soak import photos

CONDITIONS = ("off", "idle", "watched")
TOKEN = "benchmark-token-0123456789"
RESULT, STATUS = "emotion-edge/bench/result", "emotion-edge/bench/status"


def config_toml(work: Path, broker: Broker, port: int | None, interval_s: float | None,
                device: str = "bench") -> str:
    interval = f"interval_s = {interval_s}\n" if interval_s else ""
    http = (f'[http]\nis_enabled = true\nport = {port}\ntoken_file = "{work / "token"}"\n'
            if port else "")
    return (f'device_id = "{device}"\nlog_level = "WARNING"\n'
            f'[source]\nkind = "images"\npath = "{work / "images"}"\n'
            f'[worker]\nmin_interval_s = 0\n'
            f'[trigger]\n{interval}[trigger.button]\nis_enabled = false\n'
            f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n'
            f'[mqtt.discovery]\nis_enabled = false\n[mqtt.spool]\npath = "{work / device}.db"\n'
            + http)


class Daemon:
    """One `emotion-edge run`; `started_s` is spawn to READY=1 (a private NOTIFY_SOCKET)."""

    def __init__(self, work: Path, toml: str, name: str = "daemon") -> None:
        (work / f"{name}.toml").write_text(toml)
        sock_path = work / f"{name}.sock"
        sock_path.unlink(missing_ok=True)
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(str(sock_path))
        self._notify.settimeout(120)
        start = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge", "run", "--config", str(work / f"{name}.toml")],
            stdout=(work / f"{name}.log").open("ab"), stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": str(sock_path),
                 "OMP_NUM_THREADS": "1"})
        while b"READY=1" not in self._notify.recv(4096):
            pass
        self.started_s = time.monotonic() - start

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024

    def cpu_s(self) -> float:
        # utime and stime, fields 14 and 15 of /proc/PID/stat, after the ")" of the name
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self._notify.close()


class PageClient(threading.Thread):
    """What the page does while it is on: the state every 200 ms, each new frame once."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.frames = 0
        self.stop = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        shown = None
        while not self.stop.wait(0.2):
            conn.request("GET", "/api/state?frames=1", headers=auth)
            frame = json.loads(conn.getresponse().read())["frame"]
            if frame and frame["id"] != shown:
                conn.request("GET", f"/frame.jpg?id={frame['id']}", headers=auth)
                answer = conn.getresponse()
                answer.read()
                if answer.status == 200:
                    shown = frame["id"]
                    self.frames += 1
        conn.close()


@dataclass
class Figures:
    latency_ms: list[float] = field(default_factory=list)
    round_medians_ms: list[float] = field(default_factory=list)  # one per round, for ratios
    rss_mb: list[float] = field(default_factory=list)
    start_s: list[float] = field(default_factory=list)
    idle_cpu_s_per_min: list[float] = field(default_factory=list)
    frames_per_s: list[float] = field(default_factory=list)


def drain(watcher: Watcher) -> None:
    while not watcher.messages.empty():
        watcher.messages.get_nowait()


def capture_window(work: Path, broker: Broker, watcher: Watcher, condition: str,
                   seconds: float, out: Figures) -> None:
    port = None if condition == "off" else free_port()
    daemon = Daemon(work, config_toml(work, broker, port, 0.2))
    page = PageClient(port) if condition == "watched" and port else None
    try:
        out.start_s.append(daemon.started_s)
        if page is not None:
            page.start()
        for _ in range(10):  # warm-up: the first captures load caches
            watcher.next(RESULT, timeout_s=30)
        drain(watcher)
        end = time.monotonic() + seconds
        window: list[float] = []
        while (left := end - time.monotonic()) > 0:
            try:
                result = json.loads(watcher.next(RESULT, timeout_s=left)[1])
            except TimeoutError:
                break
            window.append(float(result["latency_ms"]["total"]))
        out.latency_ms += window
        out.round_medians_ms.append(statistics.median(window))
        out.rss_mb.append(daemon.rss_mb())
        if page is not None:
            page.stop.set()
            page.join(10)
            out.frames_per_s.append(page.frames / (seconds + 2.0))
    finally:
        daemon.stop()


def idle_window(work: Path, broker: Broker, condition: str, seconds: float,
                out: Figures) -> None:
    port = None if condition == "off" else free_port()
    daemon = Daemon(work, config_toml(work, broker, port, None))
    try:
        time.sleep(2.0)  # let start-up work finish before the idle window
        before = daemon.cpu_s()
        time.sleep(seconds)  # a benchmark window: nothing to wait for but time
        out.idle_cpu_s_per_min.append((daemon.cpu_s() - before) * 60.0 / seconds)
    finally:
        daemon.stop()


def together_window(work: Path, broker: Broker, watcher: Watcher, seconds: float,
                    figures: dict[str, Figures]) -> None:
    """The three conditions as three daemons at once, so every moment of the machine's load
    falls on all three alike; the page client watches the `watched` one."""
    ports = {"off": None, "idle": free_port(), "watched": free_port()}
    daemons = {c: Daemon(work, config_toml(work, broker, port, 0.2, f"bench-{c}"), c)
               for c, port in ports.items()}
    page = PageClient(ports["watched"] or 0)
    try:
        page.start()
        for _ in range(30):  # warm-up: ten captures each
            watcher.next(timeout_s=30)
        drain(watcher)
        windows: dict[str, list[float]] = {c: [] for c in CONDITIONS}
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                topic, payload, _ = watcher.next(timeout_s=left)
            except TimeoutError:
                break
            if topic.endswith("/result"):
                condition = topic.split("/")[1].removeprefix("bench-")
                windows[condition].append(float(json.loads(payload)["latency_ms"]["total"]))
        for condition, daemon in daemons.items():
            figures[condition].latency_ms += windows[condition]
            figures[condition].round_medians_ms.append(statistics.median(windows[condition]))
            figures[condition].rss_mb.append(daemon.rss_mb())
            figures[condition].start_s.append(daemon.started_s)
        page.stop.set()
        page.join(10)
        figures["watched"].frames_per_s.append(page.frames / (seconds + 2.0))
    finally:
        for daemon in daemons.values():
            daemon.stop()


BAD_REQUESTS = {
    "wrong token": (b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n\r\n"),
    "path outside the routes": b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    "100 KB path": b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "100 KB header": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 100_000 + b"\r\n\r\n",
    "1 GB body announced": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n",
    "binary garbage": b"\x00\xff\xfeGARBAGE\r\n\r\n",
    "headers never finished": b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
}


def answer_s(port: int, data: bytes) -> tuple[str, float]:
    """The status line (or 'closed') and the seconds until it came."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        try:
            sock.sendall(data)
            got = b""
            while b"\r\n" not in got and (chunk := sock.recv(65536)):
                got += chunk
        except (ConnectionResetError, BrokenPipeError):
            got = b""
    line = got.split(b"\r\n", 1)[0].decode(errors="replace")
    return (" ".join(line.split(" ")[1:2]) or "closed"), time.monotonic() - start


def bad_requests(work: Path, broker: Broker, watcher: Watcher) -> list[tuple[str, str, float]]:
    port = free_port()
    daemon = Daemon(work, config_toml(work, broker, port, 0.2))
    rows = []
    try:
        for name, data in BAD_REQUESTS.items():
            seen = [answer_s(port, data) for _ in range(3)]
            rows.append((name, seen[0][0], statistics.median(s for _, s in seen)))
        drain(watcher)
        for _ in range(3):  # and the daemon still captures
            watcher.next(RESULT, timeout_s=10)
    finally:
        daemon.stop()
    return rows


def run(args: argparse.Namespace, work: Path) -> str:
    (work / "token").write_text(TOKEN)
    photos(work / "images")
    (work / "broker").mkdir()
    figures = {c: Figures() for c in CONDITIONS}
    with private_broker(work / "broker") as broker:
        watcher = Watcher(broker, ("emotion-edge/+/result",) if args.together
                          else (RESULT, STATUS))
        try:
            if args.together:
                for r in range(args.rounds):
                    print(f"round {r + 1}: together", file=sys.stderr, flush=True)
                    together_window(work, broker, watcher, args.seconds, figures)
                return report(args, figures, [])
            for r in range(args.rounds):
                order = CONDITIONS[r % 3:] + CONDITIONS[:r % 3]
                for condition in order:
                    print(f"round {r + 1}: {condition}", file=sys.stderr, flush=True)
                    capture_window(work, broker, watcher, condition, args.seconds,
                                   figures[condition])
                if r < args.idle_rounds:
                    for condition in (c for c in order if c != "watched"):
                        idle_window(work, broker, condition, args.seconds, figures[condition])
            bad = bad_requests(work, broker, watcher)
        finally:
            watcher.close()
    return report(args, figures, bad)


def report(args: argparse.Namespace, figures: dict[str, Figures],
           bad: list[tuple[str, str, float]]) -> str:
    med = statistics.median
    off = figures["off"]
    how = "three daemons at once, " if args.together else ""
    lines = [f"{args.rounds} rounds of {how}{args.seconds:g} s windows, a capture every 0.2 s "
             "(trigger.interval_s), shipped model, YuNet, averaging=crops. Ratio: the median over "
             "rounds of each round's median latency against `off` in the same round "
             "(range in brackets).", "",
             "| Condition | capture latency, median (ms) | vs off, paired | results "
             "| RSS, median (MB) | vs off | start to READY=1, median (s) | idle CPU (s/min) "
             "| page frames/s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in CONDITIONS:
        f = figures[name]
        ratios = [mine / base for mine, base in zip(f.round_medians_ms, off.round_medians_ms,
                                                    strict=True)]
        rss = med(f.rss_mb)
        idle = f"{med(f.idle_cpu_s_per_min):.3f}" if f.idle_cpu_s_per_min else "-"
        fps = f"{med(f.frames_per_s):.1f}" if f.frames_per_s else "-"
        lines.append(
            f"| {name} | {med(f.latency_ms):.2f} | {med(ratios):.3f}x "
            f"[{min(ratios):.2f}-{max(ratios):.2f}] | {len(f.latency_ms)} | {rss:.1f} "
            f"| {rss - med(off.rss_mb):+.1f} MB | {med(f.start_s):.2f} | {idle} | {fps} |")
    if bad:
        lines += ["", "| Bad request | answer | seconds to answer or close, median of 3 |",
                  "|---|---|---|"]
        lines += [f"| {name} | {status} | {s:.3f} |" for name, status, s in bad]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.endpoint", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="window per condition")
    parser.add_argument("--idle-rounds", type=int, default=2,
                        help="rounds that also measure idle CPU (a window with no captures)")
    parser.add_argument("--together", action="store_true",
                        help="run the three conditions as three daemons at once, each "
                             "round (latency, RSS, start only; no idle CPU, no bad requests)")
    parser.add_argument("--out", type=Path, help="also write the Markdown here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        text = run(args, Path(tmp))
    print(text)
    if args.out is not None:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
