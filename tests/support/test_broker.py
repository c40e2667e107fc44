"""The private broker the demo, the benchmark and the tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.support import broker as broker_module
from benchmarks.support.broker import (
    AmqttBroker,
    Broker,
    find_broker,
    mosquitto_binary,
    private_broker,
)
from benchmarks.support.watcher import Watcher


def test_the_amqtt_fallback_carries_messages(tmp_path: Path) -> None:
    broker = AmqttBroker(tmp_path, is_quick_stop=True)
    broker.start()
    watcher = Watcher(broker, ("t/#",))
    try:
        watcher.publish("t/x", b"hello")
        assert watcher.next("t/x")[1] == b"hello"
    finally:
        watcher.close()
        broker.stop()


@pytest.mark.skipif(mosquitto_binary() is None, reason="needs the mosquitto binary")
def test_a_mosquitto_that_exits_says_why(tmp_path: Path) -> None:
    broker = Broker(tmp_path)
    broker.conf.write_text("no_such_option true\n")
    with pytest.raises(RuntimeError, match="exited with"):
        broker.start()
    assert broker.proc is None


def test_without_mosquitto_a_private_broker_is_amqtt_and_anonymous(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker_module, "mosquitto_binary", lambda: None)
    assert isinstance(private_broker(tmp_path), AmqttBroker)
    with pytest.raises(RuntimeError, match="username, password need the mosquitto binary"):
        private_broker(tmp_path, username="edge", password="pw")


def test_the_demo_asks_for_an_existing_broker_that_is_not_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker_module, "answers_mqtt", lambda host, port: False)
    with pytest.raises(RuntimeError, match="no MQTT broker answers on localhost:1883"):
        find_broker("existing", tmp_path)
