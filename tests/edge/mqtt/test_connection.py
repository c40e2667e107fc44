"""The shared MQTT connection against a real mosquitto: status, will, auth, TLS, its lifecycle
and the liveness of its network thread."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.errors import BrokerError
from edge.mqtt.config import MqttConfig
from edge.mqtt.connection import MqttConnection
from edge.mqtt.link import Link
from tests import wait
from tests.fixtures.broker import Broker, Watcher

STATUS = "emotion-edge/dev/status"
Watch = Callable[..., Watcher]


@pytest.fixture
def opened() -> Iterator[Callable[[MqttConnection], MqttConnection]]:
    made: list[MqttConnection] = []

    def open_(conn: MqttConnection) -> MqttConnection:
        made.append(conn)
        conn.open()
        return conn

    yield open_
    for conn in made:
        conn.close()


def test_online_on_connect_offline_on_close(mosquitto: Broker, watch: Watch,
                                            opened: Callable[..., MqttConnection]) -> None:
    watcher = watch(mosquitto, (STATUS,))
    conn = opened(MqttConnection(MqttConfig(**mosquitto.mqtt_config()), "dev", {}))
    assert conn.is_connected.wait(5)
    assert watcher.next(STATUS) == (STATUS, b"online", False)
    conn.close()
    assert watcher.next(STATUS)[1] == b"offline"
    late = watch(mosquitto, (STATUS,))
    assert late.next(STATUS) == (STATUS, b"offline", True)  # retained


def test_subscriptions_survive_a_broker_restart(mosquitto: Broker, watch: Watch,
                                                opened: Callable[..., MqttConnection]) -> None:
    got: queue.Queue[bytes] = queue.Queue()
    conn = opened(MqttConnection(MqttConfig(**mosquitto.mqtt_config()), "dev", {}))
    conn.subscribe("emotion-edge/dev/capture/set", got.put)
    assert conn.is_connected.wait(5)
    first = conn.generation
    mosquitto.restart()  # forgets every subscription and retained message
    watcher = watch(mosquitto, (STATUS,))
    assert watcher.next(STATUS, timeout_s=10)[1] == b"online"  # republished on reconnect
    assert conn.is_connected.wait(5) and conn.generation == first + 1
    watcher.publish("emotion-edge/dev/capture/set", b"PRESS")
    assert got.get(timeout=5) == b"PRESS"


def test_password_auth(mosquitto_auth: Broker, opened: Callable[..., MqttConnection]) -> None:
    conn = opened(MqttConnection(MqttConfig(**mosquitto_auth.mqtt_config()), "dev", {}))
    assert conn.is_connected.wait(5)


def test_wrong_password_is_refused_and_logged_once(
        mosquitto_auth: Broker, opened: Callable[..., MqttConnection],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    cfg = MqttConfig(**mosquitto_auth.mqtt_config(password="wrong"))
    conn = opened(MqttConnection(cfg, "dev", {}))
    wait.until(lambda: mosquitto_auth.log_text().count("not authorised") >= 3,
               what="3 refused attempts (0.1-0.5 s backoff)")
    assert not conn.is_connected.is_set()
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1
    assert "wrong" not in caplog.text


def test_password_from_credentials_directory(tmp_path: Path, mosquitto_auth: Broker,
                                             opened: Callable[..., MqttConnection]) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mqtt-password").write_text("s3cret-pw\n")
    cfg = MqttConfig(**mosquitto_auth.mqtt_config(password=None))
    conn = opened(MqttConnection(cfg, "dev", {"CREDENTIALS_DIRECTORY": str(creds)}))
    assert conn.is_connected.wait(5)


def test_mutual_tls(mosquitto_tls: Broker, opened: Callable[..., MqttConnection]) -> None:
    conn = opened(MqttConnection(MqttConfig(**mosquitto_tls.mqtt_config()), "dev", {}))
    assert conn.is_connected.wait(5)


def test_tls_with_the_wrong_ca_never_connects_and_says_why(
        tmp_path: Path, mosquitto_tls: Broker, opened: Callable[..., MqttConnection],
        caplog: pytest.LogCaptureFixture) -> None:
    from tests.fixtures.broker import make_certificates

    other = make_certificates(tmp_path / "other")
    cfg = mosquitto_tls.mqtt_config()
    cfg["tls"] = {**cfg["tls"], "ca_file": str(other.ca)}  # type: ignore[dict-item]
    caplog.set_level(logging.WARNING)
    conn = opened(MqttConnection(MqttConfig(**cfg), "dev", {}))
    wait.until(lambda: mosquitto_tls.log_text().count("alert unknown ca") >= 2,
               what="2 handshakes where the client rejected the broker's certificate")
    assert not conn.is_connected.is_set()
    failures = [r.getMessage() for r in caplog.records if "cannot reach" in r.getMessage()]
    assert len(failures) == 1  # once per change, not once per attempt
    assert "CERTIFICATE_VERIFY_FAILED" in failures[0] and "mqtt.tls.ca_file" in failures[0]


def test_tls_to_a_plain_listener_says_tls(
        mosquitto: Broker, caplog: pytest.LogCaptureFixture,
        opened: Callable[..., MqttConnection]) -> None:
    caplog.set_level(logging.WARNING)
    opened(MqttConnection(MqttConfig(**mosquitto.mqtt_config(tls={"is_enabled": True})),
                          "dev", {}))
    # the second attempt starts only after the first one's failure was handled
    wait.until(lambda: mosquitto.log_text().count("disconnected due to protocol error") >= 2,
               what="2 TLS handshakes refused by the plain listener")
    failures = [r.getMessage() for r in caplog.records if "cannot reach" in r.getMessage()]
    assert len(failures) == 1 and "TLS handshake" in failures[0]


def test_missing_tls_file_is_a_broker_error(tmp_path: Path) -> None:
    cfg = MqttConfig(tls={"is_enabled": True, "ca_file": tmp_path / "nope.crt"})
    with pytest.raises(BrokerError, match=r"nope\.crt"):
        MqttConnection(cfg, "dev", {})


CAPTURE = "emotion-edge/dev/capture/set"


def subscribed(watcher: Watcher, got: queue.Queue[bytes]) -> None:
    """Return once `got` receives what is published on CAPTURE: `is_connected` is set
    before the broker's SUBACK, so a message sent at once may find no subscription yet."""
    for _ in range(20):
        watcher.publish(CAPTURE, b"probe")
        try:
            if got.get(timeout=0.5) == b"probe":
                break
        except queue.Empty:
            continue
    while not got.empty():
        got.get()


def test_a_raising_handler_or_listener_never_ends_the_network_loop(
        mosquitto: Broker, watch: Watch, opened: Callable[..., MqttConnection],
        caplog: pytest.LogCaptureFixture) -> None:
    got: queue.Queue[bytes] = queue.Queue()

    def handler(payload: bytes) -> None:
        if payload.startswith(b"["):
            import json

            json.loads(payload)  # RecursionError, the fault of issue 13
        got.put(payload)

    def broken(*args: object) -> None:
        raise RuntimeError("listener bug")

    caplog.set_level(logging.ERROR)
    conn = MqttConnection(MqttConfig(**mosquitto.mqtt_config()), "dev", {})
    conn.add_connect_listener(broken)
    conn.add_ack_listener(broken)
    conn.subscribe(CAPTURE, handler)
    opened(conn)
    assert conn.is_connected.wait(5)
    watcher = watch(mosquitto, (STATUS,))
    subscribed(watcher, got)
    for _ in range(3):
        watcher.publish(CAPTURE, b"[" * 1000)
    watcher.publish(CAPTURE, b'{"request_id":"r2"}')
    assert got.get(timeout=5) == b'{"request_id":"r2"}'
    conn.publish("emotion-edge/dev/x", b"acked").wait_for_publish(5)  # runs the ack listener
    assert conn.is_connected.is_set() and conn.problem(lambda: 1) is None
    assert conn.callback_errors["the handler of " + CAPTURE] == 3
    tracebacks = sorted(r.exc_info[0].__name__ for r in caplog.records  # type: ignore[index]
                        if r.exc_info)
    assert tracebacks == ["RecursionError", "RuntimeError", "RuntimeError"]  # once per callback


def test_retained_messages_are_not_delivered_on_event_topics(
        mosquitto: Broker, watch: Watch, opened: Callable[..., MqttConnection],
        caplog: pytest.LogCaptureFixture) -> None:
    import queue

    watcher = watch(mosquitto, (STATUS,))
    watcher.publish(CAPTURE, b'{"request_id":"stale"}', is_retained=True)
    watcher.publish("emotion-edge/dev/state", b"kept", is_retained=True)
    events: queue.Queue[bytes] = queue.Queue()
    states: queue.Queue[bytes] = queue.Queue()
    conn = MqttConnection(MqttConfig(**mosquitto.mqtt_config()), "dev", {})
    conn.subscribe(CAPTURE, events.put, is_event=True)
    conn.subscribe("emotion-edge/dev/state", states.put)
    caplog.set_level(logging.WARNING)
    opened(conn)
    assert states.get(timeout=5) == b"kept"  # a state topic keeps its retained value
    watcher.publish(CAPTURE, b'{"request_id":"r2"}')
    assert events.get(timeout=5) == b'{"request_id":"r2"}'  # the stale command never came
    assert events.empty() and conn.ignored_retained == 1
    assert "ignored a retained message on " + CAPTURE in caplog.text


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_problem_names_a_dead_network_thread(
        mosquitto: Broker, watch: Watch, opened: Callable[..., MqttConnection]) -> None:
    got: queue.Queue[bytes] = queue.Queue()

    def handler(payload: bytes) -> None:
        if payload == b"exit":
            raise SystemExit  # no Exception: past the guard and paho, it ends paho's thread
        got.put(payload)

    conn = MqttConnection(MqttConfig(**mosquitto.mqtt_config()), "dev", {})
    conn.subscribe(CAPTURE, handler)
    opened(conn)
    assert conn.is_connected.wait(5) and conn.problem(lambda: 5) is None
    watcher = watch(mosquitto, (STATUS,))
    assert watcher.next(STATUS) == (STATUS, b"online", True)
    subscribed(watcher, got)
    watcher.publish(CAPTURE, b"exit")
    wait.until(lambda: conn.problem(lambda: 0) == "MQTT network thread has died",
               what="the dead thread to be noticed")
    conn.close()  # without a loop to wait for the acknowledgement: at once
    assert watcher.next(STATUS)[1] == b"offline" and conn.problem(lambda: 0) is None


def test_problem_names_a_long_outage_only_while_results_wait(
        mosquitto: Broker, opened: Callable[..., MqttConnection]) -> None:
    cfg = MqttConfig(**mosquitto.mqtt_config(max_disconnected_s=0.5))
    conn = opened(MqttConnection(cfg, "dev", {}))
    assert conn.is_connected.wait(5)
    mosquitto.stop()
    wait.until(lambda: conn.problem(lambda: 3) is not None, what="the outage to count")
    assert conn.problem(lambda: 0) is None  # nothing waits: no reason to restart
    assert conn.problem(lambda: 3) == ("not connected to MQTT for over 0 s with 3 result(s) "
                                       "waiting")
    mosquitto.start()
    assert conn.is_connected.wait(10) and conn.problem(lambda: 3) is None


def test_the_link_follows_the_broker_away_and_back_logging_each_change_once(
        mosquitto: Broker, opened: Callable[..., MqttConnection],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edge.mqtt.connection")
    cfg = MqttConfig(**mosquitto.mqtt_config(max_disconnected_s=1.0))
    conn = MqttConnection(cfg, "dev", {})
    assert conn.link is Link.NEW
    opened(conn)
    assert conn.is_connected.wait(5) and conn.link is Link.CONNECTED
    mosquitto.stop()
    wait.until(lambda: conn.link is Link.UNREACHABLE, what="a failed reconnect")
    # down for 1 s with 0.1-0.5 s backoff: at least 3 failed attempts, one line
    wait.until(lambda: conn.problem(lambda: 1) is not None, what="1 s of outage")
    mosquitto.start()
    assert conn.is_connected.wait(10) and conn.link is Link.CONNECTED
    conn.close()
    assert conn.link is Link.CLOSED and not conn.is_connected.is_set()
    lines = [r.getMessage().split(" MQTT broker")[0] for r in caplog.records
             if r.name == "edge.mqtt.connection"]
    assert lines == ["connected to", "lost", "cannot reach", "connected to"]  # not on close
