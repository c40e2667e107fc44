"""The daemon as a real subprocess (`python -m edge run`): last will after kill -9, spool
replay across a restart, malformed commands, and sd_notify over a real AF_UNIX socket.
Images source on a copy of tests/data, the tiny real model, a real mosquitto."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import wait
from tests.edge.daemon import Daemon, NotifySocket
from tests.fixtures.broker import Broker, Watcher

pytestmark = pytest.mark.daemon
Watch = Callable[..., Watcher]
STATUS, RESULT, CAPTURE = (f"emotion-edge/dev/{t}" for t in ("status", "result", "capture/set"))


def daemon_config(tmp_path: Path, broker: Broker, model: Path, images: Path,
                  worker: dict[str, Any] | None = None, **trigger: Any) -> dict[str, Any]:
    return {
        "device_id": "dev",
        "source": {"kind": "images", "path": str(images)},
        "classifier": {"model_path": str(model)},
        "trigger": {"button": {"is_enabled": False}, **trigger},
        "worker": {"min_interval_s": 0, **(worker or {})},
        "mqtt": broker.mqtt_config(spool={"path": str(tmp_path / "spool.sqlite")}),
    }


def start_online(daemon: Daemon, watcher: Watcher) -> Daemon:
    """Start the daemon and wait for its retained `online` on the status topic."""
    daemon.start()
    assert watcher.next(STATUS, timeout_s=30)[1] == b"online"
    return daemon


def spool_depth(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return int(db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.OperationalError:  # the daemon has not created the table yet
        return 0


def test_last_will_after_kill_9_and_online_after_restart(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path, images: Path,
        daemons: Callable[..., Daemon]) -> None:
    watcher = watch(mosquitto, (STATUS,))
    daemon = daemons(tmp_path, daemon_config(tmp_path, mosquitto, tiny_model, images))
    start_online(daemon, watcher)
    daemon.kill()  # SIGKILL: no clean stop, only the broker's last will
    assert watcher.next(STATUS, timeout_s=10)[1] == b"offline"
    start_online(daemon, watcher)
    assert daemon.stop() == 0
    assert watcher.next(STATUS, timeout_s=10)[1] == b"offline"


def test_restart_replays_a_non_empty_spool(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path, images: Path,
        daemons: Callable[..., Daemon]) -> None:
    mosquitto.stop()
    config = daemon_config(tmp_path, mosquitto, tiny_model, images, interval_s=0.2)
    daemon = daemons(tmp_path, config)
    daemon.start()
    spool = tmp_path / "spool.sqlite"
    wait.until(lambda: spool_depth(spool) >= 3, 30, "3 results spooled with the broker away")
    assert daemon.stop() == 0  # nothing to flush to: the results stay in the spool
    left = spool_depth(spool)
    assert left >= 3
    mosquitto.start()
    watcher = watch(mosquitto, (RESULT,))
    config["trigger"].pop("interval_s")
    again = daemons(tmp_path, config)
    again.start()
    got = [json.loads(watcher.next(RESULT, timeout_s=30)[1]) for _ in range(left)]
    assert [r["trigger"] for r in got] == ["interval"] * left
    stamps = [r["timestamp"] for r in got]
    assert stamps == sorted(stamps) and len({r["id"] for r in got}) == left
    assert again.stop() == 0
    assert spool_depth(spool) == 0


def test_command_with_request_id_and_malformed_payloads(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path, images: Path,
        daemons: Callable[..., Daemon]) -> None:
    watcher = watch(mosquitto, (RESULT, STATUS))
    daemon = daemons(tmp_path, daemon_config(tmp_path, mosquitto, tiny_model, images))
    start_online(daemon, watcher)
    watcher.publish(CAPTURE, json.dumps({"request_id": "first"}))
    result = json.loads(watcher.next(RESULT)[1])
    assert result["request_id"] == "first" and result["trigger"] == "mqtt"
    assert result["faces"] and result["model"]  # the astronaut has a face

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.binary(max_size=2048) | st.sampled_from(
        [b"{", b"[]", b'{"request_id": 1}', b'{"request_id": [1]}', b"\xff" * 10, b"x" * 5000]))
    def fuzz(payload: bytes) -> None:
        watcher.client.publish(CAPTURE, payload, qos=0)

    fuzz()
    assert daemon.is_running
    watcher.publish(CAPTURE, json.dumps({"request_id": "after-fuzz"}))
    ids = []
    while "after-fuzz" not in ids:  # a few fuzz captures may still be queued before it
        ids.append(json.loads(watcher.next(RESULT)[1])["request_id"])
    assert daemon.stop() == 0
    assert "ignored capture command" in daemon.log_text()
    assert "Traceback" not in daemon.log_text()


def test_sd_notify_ready_watchdog_status_stopping(
        tmp_path: Path, mosquitto: Broker, tiny_model: Path, images: Path,
        notify: NotifySocket, daemons: Callable[..., Daemon]) -> None:
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "400000"}
    daemon = daemons(tmp_path, daemon_config(tmp_path, mosquitto, tiny_model, images), env)
    daemon.start()
    ready = notify.wait_for("READY=1", timeout_s=30)[-1]
    status = [line for line in ready.splitlines() if line.startswith("STATUS=")]
    assert status and "captures" in status[0] and "spool" in status[0]
    # the idle worker wakes every WATCHDOG_USEC / 2 = 0.2 s: ~10 pings in 2 s (fewer on a
    # busy box); 4 are enough
    notify.wait_for("WATCHDOG=1", timeout_s=2.0, count=4)
    assert daemon.stop() == 0
    assert "STOPPING=1" in notify.wait_for("STOPPING=1", timeout_s=5)[-1]


def test_no_watchdog_once_the_camera_hangs(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path,
        notify: NotifySocket, daemons: Callable[..., Daemon]) -> None:
    folder = tmp_path / "hung"
    folder.mkdir()
    photo = folder / "a.jpg"
    os.mkfifo(photo)  # reading it blocks while we hold its write end and write nothing
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "400000"}
    watcher = watch(mosquitto, (RESULT,))
    config = daemon_config(tmp_path, mosquitto, tiny_model, folder, interval_s=1.0,
                           worker={"capture_timeout_s": 0.5})
    daemon = daemons(tmp_path, config, env)
    daemon.start()
    notify.wait_for("READY=1", timeout_s=30)
    notify.wait_for("WATCHDOG=1", timeout_s=10, count=2)  # healthy while idle
    writer = _open_once_read(photo, timeout_s=10)  # the first capture hangs in read()
    try:
        first = json.loads(watcher.next(RESULT, timeout_s=10)[1])  # answered after 0.5 s
        assert first["error"]["kind"] == "camera"
        notify.flush()  # pings sent before it
        # the worker decides on a ping before each capture, and interval captures come 1 s
        # apart: two more answers ("capture hung") are two decisions made during the hang
        for _ in range(2):
            hung = json.loads(watcher.next(RESULT, timeout_s=10)[1])
            assert "capture hung" in hung["error"]["reason"]
        assert "WATCHDOG=1" not in "".join(notify.flush())  # systemd would restart us
        assert daemon.is_running
        daemon.proc.send_signal(15)  # type: ignore[union-attr]
        assert "STOPPING=1" in notify.wait_for("STOPPING=1", timeout_s=5)[-1]
    finally:
        os.close(writer)


def _open_once_read(fifo: Path, timeout_s: float) -> int:
    """The write end of `fifo`, once a reader has it open (before that, ENXIO)."""
    opened: list[int] = []

    def try_open() -> bool:
        try:
            opened.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            return False
        return True

    wait.until(try_open, timeout_s, f"the daemon opened {fifo.name} for reading")
    return opened[0]


def results_until_offline(watcher: Watcher, offline: int = 1) -> list[bytes]:
    """The results that come before the `offline`th live `offline` status: everything the
    daemon published before it stopped (or died), since one connection keeps its order.
    The watcher must subscribe to RESULT and STATUS."""
    got = []
    while offline:
        topic, payload, is_retained = watcher.next(timeout_s=30)
        if topic == RESULT:
            got.append(payload)
        offline -= topic == STATUS and payload == b"offline" and not is_retained
    return got


def answered(watcher: Watcher, request_id: str, timeout_s: float = 10.0,
             others: list[Any] | None = None) -> dict[str, Any]:
    """Publish a capture with `request_id` and return its result; the request ids of
    results that came before it go to `others`."""
    watcher.publish(CAPTURE, json.dumps({"request_id": request_id}))
    deadline = time.monotonic() + timeout_s
    while True:
        result: dict[str, Any] = json.loads(
            watcher.next(RESULT, timeout_s=max(0.1, deadline - time.monotonic()))[1])
        if result["request_id"] == request_id:
            return result
        if others is not None:
            others.append(result["request_id"])


def test_deeply_nested_commands_leave_the_daemon_answering(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path, images: Path,
        daemons: Callable[..., Daemon]) -> None:
    watcher = watch(mosquitto, (RESULT, STATUS))
    daemon = daemons(tmp_path, daemon_config(tmp_path, mosquitto, tiny_model, images))
    start_online(daemon, watcher)
    answered(watcher, "r1")
    for _ in range(50):
        watcher.publish(CAPTURE, "[" * 1000)
    assert answered(watcher, "r2")["trigger"] == "mqtt"
    assert daemon.stop() == 0
    log = daemon.log_text()
    assert "Traceback" not in log and "nested deeper than 32" in log
    assert log.count("ignored capture command") == 1  # 50 ignored, one line (the rest at stop)


def test_a_retained_hostile_command_is_ignored_on_every_start(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path, images: Path,
        daemons: Callable[..., Daemon]) -> None:
    watcher = watch(mosquitto, (RESULT, STATUS))
    watcher.publish(CAPTURE, "[" * 1000, is_retained=True)
    daemon = daemons(tmp_path, daemon_config(tmp_path, mosquitto, tiny_model, images))
    for _ in range(2):
        start_online(daemon, watcher)
        assert answered(watcher, "r2")["request_id"] == "r2"
        assert daemon.stop() == 0
        assert watcher.next(STATUS, timeout_s=10)[1] == b"offline"
        log = daemon.log_text()
        assert "ignored a retained message on " + CAPTURE in log and "Traceback" not in log
    watcher.publish(CAPTURE, json.dumps({"request_id": "stale"}), is_retained=True)
    start_online(daemon, watcher)
    before: list[Any] = []
    assert answered(watcher, "r3", others=before)["request_id"] == "r3"
    assert daemon.stop() == 0
    assert before == [] and results_until_offline(watcher) == []  # "stale" never ran


def status_line(notify: NotifySocket, prefix: str, timeout_s: float) -> str:
    """The first STATUS= line starting with `prefix`; TimeoutError if none came in time."""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        for message in notify.collect(min(left, 0.5)):
            for line in message.splitlines():
                if line.startswith(prefix):
                    return line
    raise TimeoutError(f"no {prefix!r} within {timeout_s} s")


def test_a_long_outage_with_waiting_results_stops_the_watchdog(
        tmp_path: Path, mosquitto: Broker, tiny_model: Path, images: Path,
        notify: NotifySocket, daemons: Callable[..., Daemon]) -> None:
    config = daemon_config(tmp_path, mosquitto, tiny_model, images, interval_s=0.5)
    config["mqtt"]["max_disconnected_s"] = 1.0
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "400000"}
    daemon = daemons(tmp_path, config, env)
    daemon.start()
    notify.wait_for("READY=1", timeout_s=30)
    notify.wait_for("WATCHDOG=1", timeout_s=5, count=2)  # connected: healthy
    mosquitto.stop()
    status = status_line(notify, "STATUS=not connected to MQTT for over 1 s with", 15.0)
    assert "result(s) waiting to 127.0.0.1" in status
    notify.flush()
    # the worker decides on a ping before each interval capture: three more results in
    # the spool are at least two decisions made since the flush
    depth = spool_depth(tmp_path / "spool.sqlite")
    wait.until(lambda: spool_depth(tmp_path / "spool.sqlite") >= depth + 3, 15,
               "three more results spooled")
    assert "WATCHDOG=1" not in "".join(notify.flush())  # systemd would restart us now
    mosquitto.start()  # back: healthy again, the spool drains
    notify.wait_for("WATCHDOG=1", timeout_s=15)
    assert daemon.stop() == 0
    assert "no more watchdog pings" in daemon.log_text()


def results_ever_spooled(path: Path) -> int:
    """How many results the spool has ever stored (its AUTOINCREMENT counter)."""
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'results'").fetchone()
    return int(row[0]) if row else 0


def test_delivery_is_at_least_once_in_order_with_an_id_to_deduplicate(
        tmp_path: Path, mosquitto_persistent: Broker, watch: Watch, tiny_model: Path,
        images: Path, daemons: Callable[..., Daemon]) -> None:
    """The README's promise across the worst case, kill -9 while results are in flight and
    the broker restarting: every result arrives at least once, first arrivals in capture
    order, and a duplicate (QoS 1 resends) carries the same `id`."""
    broker = mosquitto_persistent
    watcher = watch(broker, (RESULT, STATUS), client_id="dedup-watcher")
    config = daemon_config(tmp_path, broker, tiny_model, images, interval_s=0.1)
    # no result held in memory: all of them survive kill -9 (by default, those of the last
    # write_after_s the broker had not acknowledged may not; tests/bench/test_powercut.py)
    config["mqtt"]["spool"]["write_after_s"] = 0
    daemon = daemons(tmp_path, config)
    daemon.start()
    got = [watcher.next(RESULT, timeout_s=30)[1]]
    broker.restart()  # a reconnect with results in flight
    got.append(watcher.next(RESULT, timeout_s=30)[1])
    daemon.kill()  # SIGKILL: acks in flight are lost, the spool keeps what was not acked
    config["trigger"].pop("interval_s")
    status = watch(broker, (STATUS,))
    assert status.next(STATUS)[1] == b"offline"  # the last will, retained
    again = daemons(tmp_path, config)
    again.start()
    assert status.next(STATUS, timeout_s=30)[1] == b"online"
    spool = tmp_path / "spool.sqlite"
    wait.until(lambda: spool_depth(spool) == 0, 30, "the restarted daemon drained the spool")
    assert again.stop() == 0
    # everything up to the second live `offline`: the last will, then the clean stop
    results = [json.loads(p) for p in got + results_until_offline(watcher, offline=2)]
    first: dict[str, dict[str, Any]] = {}
    for result in results:
        first.setdefault(result["id"], result)
    assert len(first) == results_ever_spooled(spool)  # each result at least once
    stamps = [r["timestamp"] for r in first.values()]
    assert stamps == sorted(stamps)  # first arrivals in capture order
    for result in results:  # a duplicate is the same result, field for field
        assert result == first[result["id"]]


def test_the_state_directory_holds_the_spool_and_nothing_else(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path, images: Path,
        daemons: Callable[..., Daemon]) -> None:
    """Nothing but SQLite's files is written there at runtime, through a broker outage and
    a clean stop, so nothing else can be torn by a power cut (the spool is checked by
    tests/bench/test_powercut.py)."""
    state = tmp_path / "state"
    state.mkdir()
    config = daemon_config(tmp_path, mosquitto, tiny_model, images, interval_s=0.2)
    del config["mqtt"]["spool"]["path"]  # the default: $STATE_DIRECTORY/spool.sqlite
    watcher = watch(mosquitto, (RESULT, STATUS))
    daemon = daemons(tmp_path, config, {"STATE_DIRECTORY": str(state)})
    start_online(daemon, watcher)
    watcher.next(RESULT, timeout_s=30)
    mosquitto.stop()
    spool = state / "spool.sqlite"
    wait.until(lambda: spool_depth(spool) >= 3, 30, "3 results spooled with the broker away")
    sqlite_files = {"spool.sqlite", "spool.sqlite-wal", "spool.sqlite-shm"}
    assert {p.name for p in state.iterdir()} <= sqlite_files
    mosquitto.start()
    wait.until(lambda: spool_depth(spool) == 0, 30, "the spool drained")
    assert daemon.stop() == 0
    assert {p.name for p in state.iterdir()} <= sqlite_files and spool.exists()
