"""`make demo` end to end: the real daemon subprocess, a real broker, the sample photos.

Uses the shipped model when it exists, else the tiny test model (same contract)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = "scripts.demo"  # run as a module from the checkout, as `make demo` does
N_CAPTURES = 3


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    # faulthandler: a native crash (a SIGSEGV was seen once under load) prints every stack
    return subprocess.run([sys.executable, "-X", "faulthandler", "-m", DEMO, *args],
                          capture_output=True, text=True, timeout=150, cwd=REPO)


@pytest.mark.slow
@pytest.mark.parametrize("broker", ["auto", "amqtt"])
def test_demo_prints_one_result_per_scripted_capture(demo_model: Path, broker: str) -> None:
    proc = _demo("--model", str(demo_model), "--broker", broker, "--captures", str(N_CAPTURES))
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    for n in range(1, N_CAPTURES + 1):
        assert f"request demo-{n}: " in out, out
    assert "face at x=" in out and "no face found" in out  # photos 1-2 have a face, 3 none
    assert "mosquitto_sub -h " in out and "/capture/set" in out
    raw = json.loads(out.split("(the JSON contract):\n", 1)[1].splitlines()[0])
    assert raw["request_id"] == "demo-1" and raw["trigger"] == "mqtt"
    assert raw["emotion"] in json.loads(demo_model.with_suffix(".json").read_text())["labels"]
    assert "exit status 0" in out
    assert "/status: 'offline' (retained)" in out


def test_demo_without_a_model_says_what_to_do(tmp_path: Path) -> None:
    proc = _demo("--model", str(tmp_path / "missing.tflite"))
    assert proc.returncode == 1
    assert "no model at" in proc.stderr and "--model" in proc.stderr


def test_the_embedded_broker_leaves_no_task_to_the_interpreter_exit(tmp_path: Path) -> None:
    """Pending asyncio tasks of a stopped loop are garbage-collected while the interpreter
    finalizes, which made the demo exit with SIGSEGV about once in 20 runs ("Garbage-
    collecting ... asyncio/queues.py in get", issue 13). stop() must end them all, also
    the quick stop the demo uses."""
    import asyncio
    import gc

    pytest.importorskip("amqtt")
    from benchmarks.support.broker import AmqttBroker
    from benchmarks.support.watcher import Watcher

    broker = AmqttBroker(tmp_path, is_quick_stop=True)
    broker.start()
    watcher = Watcher(broker, ("demo-test/#",))  # a session: amqtt tasks waiting on queues
    watcher.publish("demo-test/x", "1")
    watcher.close()
    broker.stop()
    gc.collect()
    pending = [t for t in gc.get_objects() if isinstance(t, asyncio.Task) and not t.done()]
    assert pending == []
