"""The one MQTT connection of the daemon, shared by the publisher and the MQTT trigger.

The app opens it once and closes it last: `open()` starts paho's network thread with
`connect_async` + `loop_start`, and paho reconnects with backoff on its own. Every connect
publishes `online` (retained) and renews the subscriptions; the last will and a clean
`close()` leave `offline` (retained) on the status topic (`edge.mqtt.topics`).

Its lifecycle is a `Link` (`edge.mqtt.link`), logged once per change, not once per retry.
Every paho callback runs behind `CallbackGuard`, so none can end the network thread.
`problem()` reports a dead network thread, or a connection that has been down longer than
`mqtt.max_disconnected_s` while results wait, for the watchdog.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import paho.mqtt.client as mqtt

from edge.errors import BrokerError
from edge.lifetime import Resource
from edge.mqtt.client import PahoClient, describe_connect_error, make_client
from edge.mqtt.config import MqttConfig
from edge.mqtt.guard import CallbackGuard
from edge.mqtt.link import Lifecycle, Link
from edge.mqtt.topics import Topics

log = logging.getLogger(__name__)

OFFLINE_S = 3.0  # how long closing waits for the broker to take `offline`
SAY: Mapping[Link, tuple[int, str]] = {  # the log line of each state a connection reaches
    Link.CONNECTED: (logging.INFO, "connected to MQTT broker %(where)s"),
    Link.REFUSED: (logging.ERROR, "MQTT broker %(where)s refused the connection: %(detail)s "
                   "(check mqtt.username, the password and TLS settings); retrying"),
    Link.UNREACHABLE: (logging.WARNING, "cannot reach MQTT broker %(where)s: %(detail)s; "
                       "retrying, results are spooled"),
    Link.LOST: (logging.WARNING, "lost MQTT broker %(where)s (%(detail)s); results are "
                "spooled until it is back"),
}


class MqttConnection(Resource):
    """Owns one paho client. `subscribe` and `add_connect_listener` register callbacks that
    run on paho's network thread (they must only enqueue or publish); `publish` may be
    called from any thread. The app calls `open()` once, and closes it after every part
    that uses it."""

    def __init__(self, cfg: MqttConfig, device_id: str, environ: Mapping[str, str]) -> None:
        self.cfg = cfg
        self.topics = Topics(cfg.topic_prefix, device_id)
        self.is_connected = threading.Event()
        self.generation = 0  # bumped on every successful connect
        self._handlers: dict[str, Callable[[bytes], None]] = {}
        self._connect_listeners: list[Callable[[], None]] = []
        self._ack_listeners: list[Callable[[int], None]] = []
        self._event_topics: set[str] = set()
        self._lifecycle = Lifecycle()
        self._lock = threading.Lock()
        self._guard = CallbackGuard()
        self.callback_errors = self._guard.errors
        self.ignored_retained = 0
        self._network: threading.Thread | None = None  # paho's, seen from its first callback
        self._down_since: float | None = None  # monotonic; None while connected
        self._client = make_client(cfg, f"emotion-edge-{device_id}", self.topics.status, environ)
        self._listen(self._client)

    def _listen(self, client: PahoClient) -> None:
        wrap = self._guard.wrap
        client.on_pre_connect = wrap("on_pre_connect", self._on_pre_connect)
        client.on_connect = wrap("on_connect", self._on_connect)
        client.on_disconnect = wrap("on_disconnect", self._on_disconnect)
        client.on_message = wrap("on_message", self._on_message)
        client.on_connect_fail = wrap("on_connect_fail", self._on_connect_fail)
        client.on_publish = wrap("on_publish", self._on_publish)

    @property
    def link(self) -> Link:
        """Where the connection is in its lifecycle; any thread."""
        return self._lifecycle.link

    def subscribe(self, topic: str, handler: Callable[[bytes], None], *,
                  is_event: bool = False) -> None:
        """Deliver each message on `topic` (exact name) to `handler`, across reconnects.
        On an event topic (commands) a retained message is stale, not a new event: it is
        not delivered, so it cannot fire again on every reconnect; the first is logged."""
        with self._lock:
            self._handlers[topic] = handler
            if is_event:
                self._event_topics.add(topic)
        if self.is_connected.is_set():
            self._client.subscribe(topic, qos=1)

    def add_connect_listener(self, listener: Callable[[], None]) -> None:
        self._connect_listeners.append(listener)

    def add_ack_listener(self, listener: Callable[[int], None]) -> None:
        """`listener(mid)` runs when the broker acknowledges a QoS 1 message."""
        self._ack_listeners.append(listener)

    def publish(self, topic: str, payload: bytes | str, *, qos: int = 1,
                is_retained: bool = False) -> mqtt.MQTTMessageInfo:
        return self._client.publish(topic, payload, qos=qos, retain=is_retained)

    def open(self) -> None:
        try:
            self._client.connect_async(self.cfg.host, self.cfg.port, self.cfg.keepalive_s)
        except (OSError, ValueError) as e:
            raise BrokerError(f"cannot use MQTT broker {self.cfg.host}:{self.cfg.port}: {e}; "
                              "check mqtt.host and mqtt.port") from e
        self._lifecycle.move(Link.CONNECTING)
        self._down_since = time.monotonic()
        self._client.loop_start()

    def problem(self, pending: Callable[[], int]) -> str | None:
        """Why the MQTT side cannot recover on its own, or None: the network thread is
        dead, or the broker has been away longer than mqtt.max_disconnected_s while
        `pending()` results wait. Any thread."""
        if self.link is Link.CLOSED:
            return None
        if not self._is_looping():
            return "MQTT network thread has died"
        since = self._down_since
        if since is None or time.monotonic() - since < self.cfg.max_disconnected_s:
            return None
        waiting = pending()
        if waiting == 0:
            return None
        return (f"not connected to MQTT for over {self.cfg.max_disconnected_s:.0f} s "
                f"with {waiting} result(s) waiting")

    def _is_looping(self) -> bool:
        """False once paho's network thread has ended; True before it is known."""
        return self._network is None or self._network.is_alive()

    def _close(self) -> None:
        """Publish `offline` (retained) if connected, disconnect, stop the network thread."""
        if self.is_connected.is_set():
            info = self.publish(self.topics.status, "offline", is_retained=True)
            try:  # without a network loop no acknowledgement can come: no point waiting
                info.wait_for_publish(OFFLINE_S if self._is_looping() else 0)
            except (RuntimeError, ValueError) as e:
                log.warning("could not publish offline before disconnecting: %s", e)
        self._lifecycle.move(Link.CLOSED)  # before disconnecting: a clean stop is no loss
        self._client.disconnect()
        self._client.loop_stop()
        self.is_connected.clear()

    def _enter(self, link: Link, detail: str = "") -> bool:
        """Move to `link`, logging it when that is news; False when it was not."""
        if not self._lifecycle.move(link, detail):
            return False
        level, message = SAY[link]
        where = f"{self.cfg.host}:{self.cfg.port}"
        log.log(level, message, {"where": where, "detail": detail})
        return True

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        # paho names its network thread nowhere public; each attempt starts on it
        self._network = threading.current_thread()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any,
                    reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            self._enter(Link.REFUSED, str(reason_code))
            return
        if not self._enter(Link.CONNECTED):
            return  # closed meanwhile: no `online` after `offline`
        self.generation += 1
        self._down_since = None
        with self._lock:
            topics = list(self._handlers)
        for topic in topics:
            client.subscribe(topic, qos=1)
        # after the subscriptions: the broker handles them first, so whoever sees `online`
        # can send a command at once
        client.publish(self.topics.status, "online", qos=1, retain=True)
        self.is_connected.set()
        for listener in self._connect_listeners:
            self._guard.call("a connect listener", listener)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any,
                       reason_code: Any, properties: Any) -> None:
        self.is_connected.clear()
        if self._down_since is None:
            self._down_since = time.monotonic()
        if self.link is Link.CONNECTED:  # else a refusal or a failed attempt: already logged
            self._enter(Link.LOST, str(reason_code))

    def _on_connect_fail(self, client: PahoClient, userdata: Any) -> None:
        reason = describe_connect_error(client.last_connect_error, self.cfg.tls.is_enabled)
        self._enter(Link.UNREACHABLE, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            handler = self._handlers.get(msg.topic)
            is_event = msg.topic in self._event_topics
        if handler is None:
            return
        if is_event and msg.retain:
            self._ignore_retained(msg.topic)
            return
        self._guard.call(f"the handler of {msg.topic}", handler, bytes(msg.payload))

    def _ignore_retained(self, topic: str) -> None:
        self.ignored_retained += 1
        if self.ignored_retained == 1:
            log.warning("ignored a retained message on %s: commands are events, a retained one "
                        "would fire on every reconnect; clear it with `mosquitto_pub -r -n -t "
                        "%s` (further ones are ignored silently)", topic, topic)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int,
                    reason_code: Any, properties: Any) -> None:
        for listener in self._ack_listeners:
            self._guard.call("an acknowledgement listener", listener, mid)
