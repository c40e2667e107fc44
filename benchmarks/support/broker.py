"""A private MQTT broker on a free loopback port, for the demo, the benchmark and the tests.

`Broker` runs mosquitto with its own config in a work folder (anonymous, password, or mutual
TLS; `stop()` then `start()` keeps the port, for reconnect tests). Where no mosquitto binary
exists, `AmqttBroker` runs the pure-Python amqtt broker (anonymous only) on its own asyncio
loop; `private_broker` picks between them. `find_broker` is the demo's choice: a broker that
already answers on localhost:1883, else a private one. The daemon never imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

LOOPBACK = "127.0.0.1"
KINDS = ("auto", "existing", "mosquitto", "amqtt")  # what find_broker can be asked for


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 10.0,
                  proc: subprocess.Popen[bytes] | None = None) -> None:
    """Return once 127.0.0.1:port accepts a TCP connection. TimeoutError after timeout_s;
    RuntimeError, with its stderr, if `proc` exits first."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while True:
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            raise RuntimeError(f"the broker exited with {proc.returncode}: {err}")
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no broker listening on {LOOPBACK}:{port}") from None
            pause.wait(0.02)


def mosquitto_binary() -> str | None:
    """The mosquitto executable: on PATH, else Debian's /usr/sbin/mosquitto, else None."""
    found = shutil.which("mosquitto")
    return found or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


@dataclass
class TlsFiles:
    """CA, server and client certificates/keys for a TLS broker and its clients."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


@dataclass
class Broker:
    """One mosquitto process on a free loopback port, configured in `workdir`. A context
    manager; `stop()` / `start()` keep the port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    username: str | None = None
    password: str | None = None
    tls: TlsFiles | None = None
    is_persistent: bool = False  # keep sessions across restarts (saved on SIGTERM)
    host: str = LOOPBACK
    binary: str | None = field(default_factory=mosquitto_binary)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def conf(self) -> Path:
        return self.workdir / "mosquitto.conf"

    @property
    def kind(self) -> str:
        """What this broker is, for a person reading the demo's output."""
        return f"mosquitto ({self.binary}, started here)"

    def write_config(self) -> None:
        # as root, mosquitto drops to user `mosquitto`, who cannot read files in workdir
        lines = [f"listener {self.port} {LOOPBACK}", f"user {getpass.getuser()}",
                 f"persistence {'true' if self.is_persistent else 'false'}",
                 f"persistence_location {self.workdir}/",
                 f"log_dest file {self.workdir / 'mosquitto.log'}", "log_type all"]
        if self.username is None:
            lines.append("allow_anonymous true")
        else:
            passwd = self.workdir / "passwd"
            passwd.touch(mode=0o600)
            subprocess.run(["mosquitto_passwd", "-b", str(passwd), self.username,
                            self.password or ""], check=True, capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        if self.tls is not None:
            lines += [f"cafile {self.tls.ca}", f"certfile {self.tls.server_cert}",
                      f"keyfile {self.tls.server_key}", "require_certificate true"]
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        if self.binary is None:
            raise RuntimeError("no mosquitto binary (apt install mosquitto)")
        if not self.conf.exists():
            self.write_config()
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(self.port, proc=self.proc)
        except (TimeoutError, RuntimeError):
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def mqtt_config(self, **overrides: object) -> dict[str, object]:
        """An `mqtt` settings slice for this broker: fast reconnects, no discovery, the
        spool beside the work folder."""
        cfg: dict[str, object] = {
            "host": self.host, "port": self.port, "keepalive_s": 5,
            "reconnect_min_s": 0.1, "reconnect_max_s": 0.5,
            "discovery": {"is_enabled": False},
            "spool": {"path": str(self.workdir.parent / "spool.sqlite")}}
        if self.username is not None:
            cfg["username"] = self.username
            cfg["password"] = self.password
        if self.tls is not None:
            cfg["host"] = "localhost"
            cfg["tls"] = {"is_enabled": True, "ca_file": str(self.tls.ca),
                          "cert_file": str(self.tls.client_cert),
                          "key_file": str(self.tls.client_key)}
        cfg.update(overrides)
        return cfg

    def log_text(self) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class AmqttBroker(Broker):
    """amqtt on its own asyncio loop in a daemon thread: anonymous only. With
    `is_quick_stop`, `stop()` skips amqtt's shutdown, which waits 5 s for an internal task
    (for a process about to exit; the port stays taken until it does)."""

    is_quick_stop: bool = False
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _amqtt: Any = field(default=None, init=False, repr=False)

    @property
    def kind(self) -> str:
        return "amqtt (embedded, started here)"

    def start(self) -> None:
        from amqtt.broker import Broker as Amqtt

        logging.getLogger("amqtt").setLevel(logging.CRITICAL)  # its chatter is not ours
        config = {"listeners": {"default": {"type": "tcp", "bind": f"{LOOPBACK}:{self.port}"}},
                  "auth": {"allow-anonymous": True}, "topic-check": {"enabled": False}}
        loop = asyncio.new_event_loop()
        self._loop, self._amqtt = loop, Amqtt(config, loop=loop)
        self._thread = threading.Thread(target=loop.run_forever, name="amqtt", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._amqtt.start(), loop).result(10)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        if not self.is_quick_stop:
            asyncio.run_coroutine_threadsafe(self._amqtt.shutdown(), self._loop).result(10)
        # No task may outlive the loop: pending tasks of a stopped loop are garbage-collected
        # while the interpreter finalizes, which crashed the demo with SIGSEGV at exit now
        # and then ("Garbage-collecting ... asyncio/queues.py in get", issue 13). So cancel
        # them, let them unwind on their own loop, then stop and close it.
        with contextlib.suppress(TimeoutError):  # a task ignoring its cancellation
            asyncio.run_coroutine_threadsafe(_cancel_all_tasks(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()
        self._thread = None


async def _cancel_all_tasks() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class ExistingBroker(Broker):
    """A broker someone else runs (the demo's localhost:1883): used, never started or
    stopped here."""

    @property
    def kind(self) -> str:
        return "a broker already running (not started here)"

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def private_broker(workdir: Path, *, is_quick_stop: bool = False, **options: Any) -> Broker:
    """A broker of our own, not started yet: mosquitto with `options` (Broker's fields), else
    the anonymous amqtt fallback (`is_quick_stop`: see AmqttBroker)."""
    if mosquitto_binary() is not None:
        return Broker(workdir, **options)
    if options:
        raise RuntimeError(f"{', '.join(options)} need the mosquitto binary "
                           "(apt install mosquitto)")
    return AmqttBroker(workdir, is_quick_stop=is_quick_stop)


def answers_mqtt(host: str, port: int, timeout_s: float = 2.0) -> bool:
    """True if an MQTT broker accepts an anonymous connection at host:port."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

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


def find_broker(kind: str, workdir: Path) -> Broker:
    """The started broker `kind` (one of KINDS) asks for; "auto" tries localhost:1883, then
    mosquitto, then amqtt. A private one is configured in `workdir` and stops quickly (for a
    process about to exit); `stop()` it when done. RuntimeError if `kind` cannot be had."""
    if kind in ("auto", "existing") and answers_mqtt("localhost", 1883):
        return ExistingBroker(workdir, port=1883, host="localhost")
    if kind == "existing":
        raise RuntimeError("no MQTT broker answers on localhost:1883")
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "mosquitto":
        broker = Broker(workdir)
    elif kind == "amqtt":
        broker = AmqttBroker(workdir, is_quick_stop=True)
    else:
        broker = private_broker(workdir, is_quick_stop=True)
    broker.start()
    return broker
