"""`make demo`: the real daemon, a real MQTT broker and three sample photos, end to end.

Runs `python -m edge run` as a subprocess with the shipped model and an `images` camera
(scripts/demo_images/), its GPIO button off; sends scripted capture commands with request
ids over MQTT, prints each result, then stops the daemon with SIGTERM and shows the
retained `offline` status. The topics are unique to this run, so a broker shared with
other users (or a Home Assistant) is left as it was found.

    python -m scripts.demo [--broker auto|existing|mosquitto|amqtt] [--model FILE] [--keep]

Run from the checkout as a module, so that `benchmarks.support` (left out of the wheel)
imports from it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# the private broker and the watcher the tests use too, which the wheel leaves out
from benchmarks.support.broker import KINDS, Broker, find_broker
from benchmarks.support.watcher import Watcher

REPO = Path(__file__).resolve().parent.parent

IMAGES = REPO / "scripts" / "demo_images"
SHIPPED_MODEL = REPO / "models" / "emotion-edge.tflite"
PREFIX = "emotion-edge-demo"
READY_TIMEOUT_S = 60.0  # importing OpenCV and LiteRT on a cold SD card is slow
RESULT_TIMEOUT_S = 20.0


def next_payload(watcher: Watcher, topic: str, timeout_s: float) -> tuple[bytes, bool] | None:
    """The next message on `topic` (others are skipped) and whether it was retained, or None
    after `timeout_s`."""
    try:
        _, payload, is_retained = watcher.next(topic, timeout_s)
    except TimeoutError:
        return None
    return payload, is_retained


def write_config(workdir: Path, broker: Broker, device: str, model: Path) -> Path:
    """The daemon's TOML: replayed photos, no button, MQTT commands only, no discovery."""
    config = workdir / "demo.toml"
    config.write_text(f"""\
device_id = "{device}"
[source]
kind = "images"
path = {json.dumps(str(IMAGES))}
[classifier]
model_path = {json.dumps(str(model))}
[worker]
min_interval_s = 0.0
[trigger.button]
is_enabled = false
[mqtt]
host = "{broker.host}"
port = {broker.port}
topic_prefix = "{PREFIX}"
[mqtt.discovery]
is_enabled = false
[mqtt.spool]
path = {json.dumps(str(workdir / "spool.sqlite"))}
""")
    return config


def start_daemon(config: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """`python -m edge run`, told to report READY on our own sd_notify socket."""
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(workdir / "notify.sock"))
    env = {**os.environ, "NOTIFY_SOCKET": str(workdir / "notify.sock"), "PYTHONUNBUFFERED": "1"}
    env = {k: v for k, v in env.items() if not k.startswith(("EMOEDGE_", "EMOTION_EDGE_"))}
    log = (workdir / "daemon.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(config)],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    log.close()
    return proc, notify


def wait_ready(proc: subprocess.Popen[bytes], notify: socket.socket, workdir: Path) -> str:
    """The daemon's STATUS= text once it sends READY=1; RuntimeError if it dies first."""
    notify.settimeout(0.5)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the daemon exited with status {proc.returncode}:\n"
                               + tail(workdir / "daemon.log"))
        try:
            fields = dict(line.split("=", 1) for line in notify.recv(4096).decode().splitlines()
                          if "=" in line)
        except TimeoutError:
            continue
        if fields.get("READY") == "1":
            return fields.get("STATUS", "")
    raise RuntimeError(f"no READY=1 within {READY_TIMEOUT_S:.0f} s:\n"
                       + tail(workdir / "daemon.log"))


def tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else "(no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def capture(listener: Watcher, base: str, request_id: str, tries: int) -> dict[str, Any]:
    """Send one capture command and return its result. The first command is re-sent if
    needed: the daemon may say READY a moment before the broker has its subscription."""
    for _ in range(tries):
        listener.publish(f"{base}/capture/set", json.dumps({"request_id": request_id}))
        deadline = time.monotonic() + RESULT_TIMEOUT_S / tries
        while (left := deadline - time.monotonic()) > 0:
            got = next_payload(listener, f"{base}/result", left)
            if got is not None and json.loads(got[0]).get("request_id") == request_id:
                return dict(json.loads(got[0]))
    raise RuntimeError(f"no result for request {request_id} within {RESULT_TIMEOUT_S:.0f} s")


def describe(result: dict[str, Any]) -> str:
    """One result as a person wants to read it."""
    latency = result["latency_ms"]
    stages = ", ".join(f"{k} {v:.1f}" for k, v in latency.items() if k != "total")
    faces = result["faces"]
    head = (f"{result['emotion']} {result['confidence']:.0%}" if result["emotion"]
            else "no face found")
    lines = [f"  request {result['request_id']}: {head}   ({len(faces)} face(s), "
             f"{latency.get('total', 0):.1f} ms: {stages})"]
    for face in faces:
        x, y, w, h = face["box"]
        top = sorted(face["scores"].items(), key=lambda kv: -kv[1])[:3]
        scores = ", ".join(f"{label} {score:.2f}" for label, score in top)
        lines.append(f"      face at x={x} y={y} {w}x{h}: {scores}")
    return "\n".join(lines)


def stop_daemon(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def show_retained(broker: Broker, topic: str) -> str:
    """What a client connecting now gets on `topic` (retained), via a fresh subscription."""
    fresh = Watcher(broker, (topic,))
    try:
        got = next_payload(fresh, topic, 5.0)
    finally:
        fresh.close()
    if got is None:
        return "(nothing retained)"
    return f"{got[0].decode()!r}" + (" (retained)" if got[1] else "")


def _print_watch_commands(broker: Broker, base: str) -> None:
    where = f"-h {broker.host} -p {broker.port}"
    print("Watch the topics by hand (another terminal):")
    print(f"    mosquitto_sub {where} -v -t '{base}/#'")
    print("Trigger a capture by hand:")
    print(f"    mosquitto_pub {where} -t '{base}/capture/set' -m '{{\"request_id\": \"mine\"}}'")


def _run_captures(listener: Watcher, base: str, count: int) -> list[dict[str, Any]]:
    print(f"\nSending {count} capture commands to {base}/capture/set:")
    results = []
    for n in range(1, count + 1):
        result = capture(listener, base, f"demo-{n}", tries=4 if n == 1 else 1)
        print(describe(result), flush=True)
        results.append(result)
    emotion = listener.latest.get(f"{base}/emotion")
    if emotion is not None:
        print(f"\nLatest dominant emotion (retained state) on {base}/emotion: "
              f"{emotion.decode()!r}")
    print(f"\nThe first result as published on {base}/result (the JSON contract):")
    print("    " + json.dumps(results[0]))
    return results


def _session(broker: Broker, args: argparse.Namespace, workdir: Path) -> int:
    device = f"demo-{secrets.token_hex(3)}"
    base = f"{PREFIX}/{device}"
    listener = Watcher(broker, (f"{base}/#",))
    proc, notify = start_daemon(write_config(workdir, broker, device, args.model), workdir)
    try:
        print(f"Daemon: pid {proc.pid}, device {device}, log {workdir / 'daemon.log'}")
        print(f"Daemon READY=1, STATUS={wait_ready(proc, notify, workdir)}")
        if listener.latest.get(f"{base}/status") != b"online":
            got = next_payload(listener, f"{base}/status", READY_TIMEOUT_S)
            print(f"Status on {base}/status: {got[0].decode() if got else 'nothing yet'!r}")
        _print_watch_commands(broker, base)
        _run_captures(listener, base, args.captures)
        if args.keep:
            print("\n--keep: the daemon keeps running; press Ctrl-C to stop it.")
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        code = stop_daemon(proc) if proc.poll() is None else proc.returncode
        notify.close()
        print(f"\nStopped the daemon with SIGTERM: exit status {code}")
        print(f"Status on {base}/status: {show_retained(broker, f'{base}/status')}")
        for leaf in ("status", "emotion"):  # leave no retained demo topics behind
            listener.publish(f"{base}/{leaf}", "", is_retained=True)
        listener.close()
    return code


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--broker", choices=KINDS, default="auto",
                   help="auto: localhost:1883 if it answers, else mosquitto, else amqtt")
    p.add_argument("--model", type=Path, default=SHIPPED_MODEL,
                   help=".tflite with its .json beside it (default: the shipped model)")
    p.add_argument("--captures", type=int, default=3, help="scripted captures (default 3)")
    p.add_argument("--keep", action="store_true", help="keep the daemon running until Ctrl-C")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if not args.model.is_file() or not args.model.with_suffix(".json").is_file():
        print(f"demo: no model at {args.model} (with its .json beside it). Pass --model FILE, "
              "or train and convert one (docs/training.md).", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="emotion-edge-demo-") as tmp:
        try:
            broker = find_broker(args.broker, Path(tmp) / "broker")
        except (RuntimeError, OSError) as e:  # OSError: the broker never listened
            print(f"demo: the {args.broker} broker: {e}", file=sys.stderr)
            return 1
        print(f"Broker: {broker.kind}, {broker.host}:{broker.port}")
        try:
            return _session(broker, args, Path(tmp))
        except (RuntimeError, OSError) as e:  # OSError: the broker went away
            print(f"demo: {e}", file=sys.stderr)
            return 1
        finally:
            broker.stop()


if __name__ == "__main__":
    sys.exit(main())
