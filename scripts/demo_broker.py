"""The demo's MQTT broker: the one on localhost:1883 if it answers, else a private mosquitto
on a free port, else an embedded amqtt broker (pure Python, installed with `make demo`)."""

from __future__ import annotations

import getpass
import logging
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo broker did not open 127.0.0.1:{port}") from None
            pause.wait(0.05)


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    return found or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


def start_mosquitto(binary: str) -> BrokerHandle:
    """A private mosquitto on a free loopback port: anonymous, nothing persisted."""
    workdir = Path(tempfile.mkdtemp(prefix="emotion-edge-demo-broker-"))
    port = free_port()
    conf = workdir / "mosquitto.conf"
    # run as whoever we are: as root, mosquitto would otherwise switch to user `mosquitto`
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    f"user {getpass.getuser()}\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    try:
        _wait_for_port(port)
    except RuntimeError:
        stop()
        raise
    return BrokerHandle("127.0.0.1", port, f"mosquitto ({binary}, started for the demo)", stop)


def start_amqtt() -> BrokerHandle:
    """amqtt on its own asyncio loop in a daemon thread, on a free loopback port."""
    import asyncio

    from amqtt.broker import Broker

    logging.getLogger("amqtt").setLevel(logging.CRITICAL)  # its chatter is not the demo's
    port = free_port()
    config = {"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
              "auth": {"allow-anonymous": True}, "topic-check": {"enabled": False}}
    loop = asyncio.new_event_loop()
    broker = Broker(config, loop=loop)
    thread = threading.Thread(target=loop.run_forever, name="amqtt", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(broker.start(), loop).result(10)
    _wait_for_port(port)

    def stop() -> None:
        # No broker.shutdown(): it waits 5 s for an internal task, and this process is about
        # to exit anyway, with everything it needed already received.
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)

    return BrokerHandle("127.0.0.1", port, "amqtt (embedded, started for the demo)", stop)


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
