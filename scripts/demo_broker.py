"""The demo's MQTT broker: the one on localhost:1883 if it answers, else a private mosquitto
on a free port, else an embedded amqtt broker (pure Python, installed with `make demo`)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.testing.broker import AmqttBroker, Broker, mosquitto_binary

KINDS = ("auto", "existing", "mosquitto", "amqtt")


@dataclass
class BrokerHandle:
    """Where the broker listens, what it is, and how to stop it (a no-op for one we did not
    start)."""

    host: str
    port: int
    kind: str
    stop: Callable[[], None]


def answers_mqtt(host: str, port: int, timeout_s: float = 2.0) -> bool:
    """True if an MQTT broker accepts an anonymous connection at host:port."""
    accepted = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, u, f, rc, p: accepted.set() if not rc.is_failure else None
    try:
        client.connect(host, port, keepalive=10)
    except OSError:
        return False
    client.loop_start()
    try:
        return accepted.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()


def start_mosquitto(binary: str) -> BrokerHandle:
    """A private mosquitto on a free loopback port: anonymous, nothing persisted."""
    workdir = Path(tempfile.mkdtemp(prefix="emotion-edge-demo-broker-"))
    broker = Broker(workdir, binary=binary)

    def stop() -> None:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    try:
        broker.start()
    except (TimeoutError, RuntimeError) as e:
        stop()
        raise RuntimeError(f"the demo broker did not start: {e}") from e
    return BrokerHandle(broker.host, broker.port, f"mosquitto ({binary}, started for the demo)",
                        stop)


def start_amqtt() -> BrokerHandle:
    """amqtt on its own asyncio loop in a daemon thread, on a free loopback port."""
    # quick stop: this process is about to exit, with everything it needed received
    broker = AmqttBroker(Path(tempfile.gettempdir()), is_quick_stop=True)
    broker.start()
    return BrokerHandle(broker.host, broker.port, "amqtt (embedded, started for the demo)",
                        broker.stop)


def find_broker(kind: str = "auto") -> BrokerHandle:
    """The broker `kind` asks for; "auto" tries localhost:1883, mosquitto, then amqtt."""
    if kind in ("auto", "existing") and answers_mqtt("localhost", 1883):
        return BrokerHandle("localhost", 1883, "the broker already on localhost:1883",
                            lambda: None)
    if kind == "existing":
        raise RuntimeError("no MQTT broker answers on localhost:1883")
    binary = mosquitto_binary()
    if kind in ("auto", "mosquitto") and binary is not None:
        return start_mosquitto(binary)
    if kind == "mosquitto":
        raise RuntimeError("no mosquitto binary (apt install mosquitto)")
    return start_amqtt()
