"""MqttPublisher against a real mosquitto: order, PUBACK-gated deletion, the broker going
away and coming back, replay after a restart, the retained emotion, the snapshot."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from benchmarks.support.results import make_result
from edge.mqtt.config import MqttConfig
from edge.mqtt.connection import MqttConnection
from edge.mqtt.publisher import MqttPublisher
from edge.mqtt.spool import Spool
from edge.ports import Frame
from tests import wait
from tests.fixtures.broker import Broker, Watcher

RESULT = "emotion-edge/dev/result"
EMOTION = "emotion-edge/dev/emotion"
Watch = Callable[..., Watcher]


class Stack:
    """Connection + publisher (which owns its spool), opened and closed like the app does."""

    def __init__(self, cfg: MqttConfig, spool_file: Path) -> None:
        self.conn = MqttConnection(cfg, "dev", {})
        self.spool = Spool(spool_file, cfg.spool.max_results, cfg.spool.max_age_s,
                           write_after_s=cfg.spool.write_after_s)
        self.publisher = MqttPublisher(cfg, self.conn, self.spool, drain_s=3)
        self.publisher.start()
        self.conn.open()

    def close(self) -> None:
        self.publisher.close()  # sends what is spooled while connected, closes the spool
        self.conn.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    made: list[Stack] = []

    def make(broker: Broker, **overrides: object) -> Stack:
        made.append(Stack(MqttConfig(**broker.mqtt_config(**overrides)), tmp_path / "s.sqlite"))
        return made[-1]

    yield make
    for item in made:
        item.close()


def ids(watcher: Watcher, n: int) -> list[str]:
    return [json.loads(watcher.next(RESULT)[1])["id"] for _ in range(n)]


def test_results_in_order_qos1_not_retained_and_spool_emptied(
        mosquitto: Broker, watch: Watch, stack: Callable[..., Stack]) -> None:
    watcher = watch(mosquitto, (RESULT, EMOTION))
    s = stack(mosquitto)
    assert s.conn.is_connected.wait(5)
    for i in range(30):
        s.publisher.publish(make_result(i, request_id=f"q{i}"))
    got = [watcher.next(RESULT) for _ in range(30)]
    assert [json.loads(p)["id"] for _, p, _ in got] == [f"r{i}" for i in range(30)]
    assert json.loads(got[0][1])["request_id"] == "q0"
    assert not any(retained for _, _, retained in got)
    assert s.publisher.drain(5) and s.spool.depth() == 0


def test_broker_away_then_back_every_result_once_in_order(
        mosquitto_persistent: Broker, watch: Watch, stack: Callable[..., Stack]) -> None:
    broker = mosquitto_persistent
    watcher = watch(broker, (RESULT,), client_id="test-watcher")  # kept across the restart
    s = stack(broker)
    assert s.conn.is_connected.wait(5)
    for i in range(3):
        s.publisher.publish(make_result(i))
    assert s.publisher.drain(5)
    broker.stop()
    for i in range(3, 10):
        s.publisher.publish(make_result(i))
    assert s.spool.depth() == 7  # kept while the broker is away
    broker.start()
    assert s.conn.is_connected.wait(10)
    got = [json.loads(watcher.next(RESULT)[1])["id"] for _ in range(10)]
    assert got == [f"r{i}" for i in range(10)]  # in order
    s.publisher.publish(make_result(10))
    assert json.loads(watcher.next(RESULT)[1])["id"] == "r10"  # and once each: no repeat between
    wait.until(lambda: s.spool.depth() == 0, what="every result acknowledged and unspooled")


def test_restart_replays_the_spool(tmp_path: Path, mosquitto: Broker, watch: Watch) -> None:
    spool = Spool(tmp_path / "s.sqlite", 100, 3600)
    for i in range(4):  # left behind by a daemon that died with the broker away
        spool.add(RESULT, json.dumps({"id": f"r{i}"}).encode())
    spool.close()
    watcher = watch(mosquitto, (RESULT,))
    s = Stack(MqttConfig(**mosquitto.mqtt_config()), tmp_path / "s.sqlite")
    try:
        assert ids(watcher, 4) == ["r0", "r1", "r2", "r3"]
        assert s.publisher.drain(5)
    finally:
        s.close()


def test_emotion_is_retained_state(mosquitto: Broker, watch: Watch,
                                   stack: Callable[..., Stack]) -> None:
    s = stack(mosquitto)
    assert s.conn.is_connected.wait(5)
    s.publisher.publish(make_result(0, "sad"))
    s.publisher.publish(make_result(1, None))
    assert s.publisher.drain(5)
    late = watch(mosquitto, (EMOTION,))
    assert late.next(EMOTION, timeout_s=5) == (EMOTION, b"none", True)


def test_snapshot_only_when_enabled(mosquitto: Broker, watch: Watch,
                                    stack: Callable[..., Stack]) -> None:
    import cv2

    watcher = watch(mosquitto, ("emotion-edge/dev/snapshot", RESULT))
    frame = Frame(np.zeros((120, 160, 3), np.uint8), "test", 0.0)
    off = stack(mosquitto)
    assert off.conn.is_connected.wait(5)
    off.publisher.publish(make_result(0), frame)
    watcher.next(RESULT)
    off.close()
    on = stack(mosquitto, is_snapshot_enabled=True)
    assert on.conn.is_connected.wait(5)
    on.publisher.publish(make_result(1), frame)
    got = dict((topic, payload) for topic, payload, _ in (watcher.next(), watcher.next()))
    assert json.loads(got[RESULT])["id"] == "r1"  # so the snapshot is not one from `off`
    payload = got["emotion-edge/dev/snapshot"]
    image = cv2.imdecode(np.frombuffer(payload, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (120, 160, 3) and image[10:70, 10].any()  # the box was drawn


def test_closing_sends_what_is_spooled_then_closes_the_spool(
        tmp_path: Path, mosquitto: Broker, watch: Watch) -> None:
    watcher = watch(mosquitto, (RESULT,))
    s = Stack(MqttConfig(**mosquitto.mqtt_config()), tmp_path / "s.sqlite")
    assert s.conn.is_connected.wait(5)
    for i in range(20):
        s.publisher.publish(make_result(i))
    s.publisher.close()
    assert s.publisher.closed and not open_files(tmp_path / "s.sqlite")
    assert ids(watcher, 20) == [f"r{i}" for i in range(20)]
    s.publisher.close()  # again: nothing happens
    s.conn.close()
    with contextlib.closing(Spool(tmp_path / "s.sqlite", 100, 3600)) as spool:
        assert spool.depth() == 0  # every result was acknowledged before the spool closed


def ever_written(path: Path) -> int:
    """Results ever written to the spool file (its AUTOINCREMENT counter)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'results'").fetchone()
    return int(row[0]) if row else 0


def test_results_the_broker_takes_in_time_never_reach_the_card(
        tmp_path: Path, mosquitto: Broker, watch: Watch, stack: Callable[..., Stack]) -> None:
    watcher = watch(mosquitto, (RESULT,))
    # a minute, not the default 2 s: a loaded test machine must not make this about time
    s = stack(mosquitto, spool={"path": str(tmp_path / "s.sqlite"), "write_after_s": 60})
    assert s.conn.is_connected.wait(5)
    for i in range(20):
        s.publisher.publish(make_result(i))
    assert ids(watcher, 20) == [f"r{i}" for i in range(20)]
    assert s.publisher.drain(5)
    assert ever_written(tmp_path / "s.sqlite") == 0  # the SD card was spared every one


def test_results_made_while_the_broker_is_away_are_on_the_card_at_once(
        tmp_path: Path, mosquitto: Broker, stack: Callable[..., Stack]) -> None:
    s = stack(mosquitto)
    assert s.conn.is_connected.wait(5)
    mosquitto.stop()
    wait.until(lambda: not s.conn.is_connected.is_set(), what="the connection dropped")
    for i in range(3):
        s.publisher.publish(make_result(i))
    assert ever_written(tmp_path / "s.sqlite") == 3  # before publish returned, not later


def test_a_result_the_broker_does_not_acknowledge_in_time_is_written_then_deleted(
        tmp_path: Path, mosquitto: Broker, watch: Watch, stack: Callable[..., Stack]) -> None:
    """A broker that hangs (stopped with SIGSTOP: the connection stays up, no PUBACK comes):
    after write_after_s the result goes to the card, and is deleted once acknowledged."""
    watcher = watch(mosquitto, (RESULT,))
    s = stack(mosquitto, spool={"path": str(tmp_path / "s.sqlite"), "write_after_s": 0.2})
    assert s.conn.is_connected.wait(5)
    assert mosquitto.proc is not None
    os.kill(mosquitto.proc.pid, signal.SIGSTOP)
    try:
        s.publisher.publish(make_result(0))
        wait.until(lambda: ever_written(tmp_path / "s.sqlite") == 1, 10,
                   "the unacknowledged result written")
        assert s.conn.is_connected.is_set()  # written while connected, because it was due
    finally:
        os.kill(mosquitto.proc.pid, signal.SIGCONT)
    assert ids(watcher, 1) == ["r0"]
    wait.until(lambda: s.spool.depth() == 0, what="the written result deleted on its PUBACK")


def open_files(path: Path) -> list[str]:
    """This process's open file descriptors on `path` (or its SQLite journal)."""
    links = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # a descriptor closed meanwhile
            links.append(os.readlink(fd))
    return [link for link in links if link.startswith(str(path))]
