"""A real MQTT client that records what it receives: the demo's listener and the tests'
watcher, one class for both."""

from __future__ import annotations

import queue
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

    from benchmarks.support.broker import Broker


class Watcher:
    """A paho client that records every message on `topics` (QoS 1) into a queue and the last
    payload per topic into `latest`, with the helpers a caller needs: `next(topic)`,
    `publish(...)`. Close it (the tests' `watch` fixture does)."""

    def __init__(self, broker: Broker, topics: tuple[str, ...] = ("#",),
                 client_id: str = "") -> None:
        """A non-empty client_id makes a persistent session that outlives broker restarts
        (with a persistent broker). TimeoutError if the subscription is not acknowledged."""
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self.latest: dict[str, bytes] = {}  # topic -> last payload, for state topics
        self.is_subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=not client_id)
        self.client.reconnect_delay_set(0.1, 0.5)  # type: ignore[arg-type]
        if broker.username is not None:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls is not None:
            self.client.tls_set(ca_certs=str(broker.tls.ca), certfile=str(broker.tls.client_cert),
                                keyfile=str(broker.tls.client_key))
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self.is_subscribed.set()
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in topics])
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not self.is_subscribed.wait(10):
            self.close()
            raise TimeoutError(f"could not subscribe to {', '.join(topics)} "
                               f"on {broker.host}:{broker.port}")

    def _on_message(self, client: mqtt.Client, userdata: Any, m: mqtt.MQTTMessage) -> None:
        # DUP here means the broker redelivers to *this* client (its PUBACK was lost in a
        # broker restart); the flag is per hop, so a publisher's own resend arrives with dup=0
        if not m.dup:
            self.latest[m.topic] = bytes(m.payload)
            self.messages.put((m.topic, bytes(m.payload), bool(m.retain)))

    def next(self, topic: str | None = None, timeout_s: float = 10.0) -> tuple[str, bytes, bool]:
        """The next message (on `topic` if given), skipping others; TimeoutError if none."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                item = self.messages.get(timeout=max(0.0, left))
            except queue.Empty:
                raise TimeoutError(f"no message on {topic or 'any topic'} "
                                   f"within {timeout_s} s") from None
            if topic is None or item[0] == topic:
                return item

    def publish(self, topic: str, payload: bytes | str, *, qos: int = 1,
                is_retained: bool = False) -> None:
        self.client.publish(topic, payload, qos=qos, retain=is_retained).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
