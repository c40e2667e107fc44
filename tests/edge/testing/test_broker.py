"""The private broker the demo, the benchmark and the tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.testing.broker import AmqttBroker, Broker, mosquitto_binary
from tests.fixtures.broker import Watcher


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
