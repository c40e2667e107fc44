"""The boot after a cut, all the way to the broker: the daemon's MQTT side (`open_spool`,
`MqttConnection`, `MqttPublisher`, as `edge.app` builds them) starts on what the cut left
and sends it to a real mosquitto, where a subscriber records what arrives."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType

from benchmarks.support.broker import Broker, private_broker
from benchmarks.support.watcher import Watcher
from edge.mqtt import open_spool
from edge.mqtt.config import MqttConfig
from edge.mqtt.connection import MqttConnection
from edge.mqtt.publisher import MqttPublisher

from .workload import DEVICE, SPOOL


class Booter:
    """One broker and one subscriber for many boots; a context manager."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.broker: Broker = private_broker(workdir)
        self.broker.start()
        self.topic = f"emotion-edge/{DEVICE}/result"
        self.watcher = Watcher(self.broker, (self.topic,))

    def boot(self, folder: Path) -> list[str]:
        """Ids the broker received, in order, from a daemon booted on the spool in `folder`
        until that spool was empty (or 10 s passed)."""
        cfg = MqttConfig.model_validate(self.broker.mqtt_config(
            spool={"path": str(folder / SPOOL)}))
        conn = MqttConnection(cfg, DEVICE, {})
        spool = open_spool(cfg, {})
        waiting = spool.depth()
        publisher = MqttPublisher(cfg, conn, spool, drain_s=10)
        publisher.start()
        conn.open()
        got = []
        try:
            for _ in range(waiting):
                got.append(json.loads(self.watcher.next(self.topic, timeout_s=10)[1])["id"])
        except TimeoutError:
            pass  # fewer arrived: the caller compares
        finally:
            publisher.close()
            conn.close()
        return got

    def __enter__(self) -> Booter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.watcher.close()
        self.broker.stop()
