"""The recorded run: the daemon's spool and publisher against a real mosquitto that goes
away and comes back, every SQLite write logged by `record.RecordingVfs`.

The parts are the daemon's own (`Spool`, `MqttPublisher`, `MqttConnection`); only the
SQLite connection is apsw's (to record it) and two thin subclasses add marks to the log:
`made` when `publish` returned (the result is the spool's from then on), `sent` and
`acked` per MQTT message id, and `persisted` when a `persist_due` call completed.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from random import Random

import paho.mqtt.client as mqtt

from benchmarks.support.broker import Broker, private_broker
from benchmarks.support.results import make_result
from edge.mqtt.config import MqttConfig
from edge.mqtt.connection import MqttConnection
from edge.mqtt.publisher import MqttPublisher
from edge.mqtt.spool import Spool

from .record import Recorder, RecordingVfs, recording_connect

SPOOL = "spool.sqlite"
DEVICE = "powercut"  # the spool keeps each result's topic, so the boot uses the same one


@dataclass(frozen=True)
class Plan:
    """One recorded run: `results` published `period_s` apart, in four quarters: the
    broker up; stopped (results written at once); started, then hung with SIGSTOP (the
    connection stays up, no PUBACK comes) and left so until the first held results are
    due (`write_after_s` and a half more); continued, up to the end."""

    seed: int
    results: int = 90
    period_s: float = 0.02
    write_after_s: float = 2.0
    max_results: int = 10_000
    synchronous: str | None = None  # None: the spool's own (FULL); "NORMAL": the baseline


@dataclass(frozen=True)
class Run:
    plan: Plan
    recorder: Recorder


class _MarkedConnection(MqttConnection):
    def __init__(self, cfg: MqttConfig, recorder: Recorder) -> None:
        super().__init__(cfg, DEVICE, {})
        self._recorder = recorder
        self.add_ack_listener(lambda mid: recorder.mark("acked", mid))

    def publish(self, topic: str, payload: bytes | str, *, qos: int = 1,
                is_retained: bool = False) -> mqtt.MQTTMessageInfo:
        info = super().publish(topic, payload, qos=qos, is_retained=is_retained)
        if topic == self.topics.result:
            self._recorder.mark("sent", info.mid, json.loads(payload)["id"])
        return info


class _MarkedSpool(Spool):
    def __init__(self, path: Path, plan: Plan, vfs: RecordingVfs) -> None:
        super().__init__(path, plan.max_results, 10**9, write_after_s=plan.write_after_s,
                         connect=recording_connect(vfs, plan.synchronous))
        self._recorder = vfs.recorder

    def persist_due(self, *, is_all: bool = False) -> int:
        started = time.monotonic()  # the spool's clock
        written = super().persist_due(is_all=is_all)
        self._recorder.mark("persisted", started, is_all, written)
        return written


def record(plan: Plan, workdir: Path) -> Run:
    """Run `plan` with a broker of its own in `workdir`; the log of what the disk saw."""
    recorder = Recorder()
    vfs = RecordingVfs(recorder)
    rng = Random(plan.seed)
    broker = private_broker(workdir / "broker")
    (workdir / "broker").mkdir(parents=True, exist_ok=True)
    broker.start()
    try:
        _publish_through_outage(plan, broker, workdir / SPOOL, vfs, rng)
    finally:
        if broker.proc is not None:
            os.kill(broker.proc.pid, signal.SIGCONT)  # a hung broker cannot stop
        broker.stop()
        vfs.unregister()
    return Run(plan, recorder)


def _publish_through_outage(plan: Plan, broker: Broker, spool_file: Path, vfs: RecordingVfs,
                            rng: Random) -> None:
    cfg = MqttConfig.model_validate(broker.mqtt_config())
    conn = _MarkedConnection(cfg, vfs.recorder)
    publisher = MqttPublisher(cfg, conn, _MarkedSpool(spool_file, plan, vfs), drain_s=10)
    publisher.start()
    conn.open()
    try:
        if not conn.is_connected.wait(10):
            raise RuntimeError(f"no connection to the test broker on port {broker.port}")
        for n in range(plan.results):
            _next_quarter(plan, n, broker, conn)
            publisher.publish(make_result(n))
            vfs.recorder.mark("made", f"r{n}")
            time.sleep(plan.period_s * rng.uniform(0.5, 1.5))  # pacing, not waiting
        if not conn.is_connected.wait(10) or not publisher.drain(30):
            raise RuntimeError("the spool did not drain after the broker came back")
    finally:
        publisher.close()
        conn.close()


def _next_quarter(plan: Plan, n: int, broker: Broker, conn: MqttConnection) -> None:
    quarter = plan.results // 4
    if n == quarter:
        broker.stop()
    elif n == 2 * quarter:
        broker.start()
        if not conn.is_connected.wait(10):
            raise RuntimeError(f"no reconnection to the test broker on port {broker.port}")
        if broker.proc is not None:  # mosquitto; the amqtt fallback runs in this process
            os.kill(broker.proc.pid, signal.SIGSTOP)
    elif n == 3 * quarter and broker.proc is not None:
        time.sleep(plan.write_after_s * 1.5)  # the held results fall due meanwhile
        os.kill(broker.proc.pid, signal.SIGCONT)


def temporary_workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="powercut-")
