"""MqttPublisher: results over MQTT, through the persistent spool, in order, never replayed
as retained.

`<prefix>/<device>/result` gets each result JSON at QoS 1, not retained: results are
events; so is each person message on `<prefix>/<device>/person` (continuous mode), through
the same spool. `<prefix>/<device>/emotion` gets the dominant label (or `none`),
`<prefix>/<device>/faces` the number of faces and `<prefix>/<device>/presence` `ON` when
there is one, `OFF` when not; all three retained: states, from the last capture that
worked.
`<prefix>/<device>/snapshot` gets a JPEG of the frame only when the user opted in.

When the spool cannot be written (a full or read-only SD card), a result goes straight to
the broker while it is connected and is dropped while it is not: one log line a minute
counts the drops, and STATUS= names the fault until the spool takes writes again.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from datetime import UTC, datetime

from edge.lifetime import OwnedThread, Resource
from edge.mqtt.config import MqttConfig
from edge.mqtt.connection import MqttConnection
from edge.mqtt.spool import Spool, SpoolUnwritable
from edge.ports import Frame, PersonVisit, Result

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 16  # below paho's max_inflight_messages (20), so paho never reorders
STALE_RESEND_S = 30.0  # paho resends in-flight messages on reconnect; stop waiting after this
DROP_LOG_PERIOD_S = 60.0  # drops of unspoolable results are logged at most this often
DRAIN_S = 5.0  # how long a clean stop waits for the broker to take what is spooled
FLUSH_STOP_S = 5.0


class DropLog:
    """Counts results that could be neither spooled nor sent; logs at most once a period
    (monotonic clock), so a full card cannot also flood the journal."""

    def __init__(self, period_s: float = DROP_LOG_PERIOD_S) -> None:
        self.period_s = period_s
        self.total = 0
        self._unlogged = 0
        self._logged_at = float("-inf")

    def drop(self, fault: str) -> None:
        self.total += 1
        self._unlogged += 1
        now = time.monotonic()
        if now - self._logged_at >= self.period_s:
            self._logged_at = now
            log.warning("%s: dropped %d result(s) that could be neither spooled nor sent (the "
                        "broker is away); %d since start", fault, self._unlogged, self.total)
            self._unlogged = 0


class MqttPublisher(Resource):
    """Implements ResultPublisher. `publish` (worker thread) stores the result in the spool
    and returns; a flush thread sends spooled results in order while connected and deletes
    each one when its PUBACK arrives. It owns the spool it is given; not the connection,
    which the app opens before it and closes after it. Closing sends what is spooled while
    connected (for at most `drain_s`), stops the flush thread and closes the spool."""

    def __init__(self, cfg: MqttConfig, connection: MqttConnection, spool: Spool, *,
                 drain_s: float = DRAIN_S) -> None:
        self.cfg = cfg
        self._conn = connection
        self._spool = spool
        self._drain_s = drain_s
        self._acks: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._in_flight: dict[int, tuple[int, int]] = {}  # mid -> (seq, generation)
        self._states_lock = threading.Lock()
        self._states: dict[str, str] = {}  # retained topic -> latest value
        self._states_sent_gen = -1  # connection generation the latest states were sent in
        self._connected_at = 0.0
        self._acked: set[int] = set()  # acknowledged, not yet deleted (the card refused)
        self._fault: str | None = None  # what the spool's filesystem refuses
        self._fault_since = ""
        self._drops = DropLog()
        self._flusher = OwnedThread(self._run, "mqtt-flush")
        self._stop = self._flusher.stopping
        connection.add_ack_listener(self._on_ack)
        connection.add_connect_listener(self._on_connect)

    @property
    def depth(self) -> int:
        """Results not yet acknowledged by the broker."""
        return self._spool.depth()

    @property
    def problem(self) -> str | None:
        """For STATUS=: "spool: disk full since ..." while the spool cannot be written."""
        if self._fault is None:
            return None
        return (f"spool: {self._fault} since {self._fault_since}, results sent unspooled, "
                f"{self._drops.total} dropped")

    def start(self) -> None:
        self._flusher.start()

    def publish(self, result: Result, frame: Frame | None = None) -> None:
        self._add(self._conn.topics.result, result.to_json_dict())
        top = result.dominant
        topics = self._conn.topics
        states = {topics.emotion: top.label if top else "none"}
        # a failed capture says nothing about who is there; a paused camera sees no one
        if result.error is None or result.error.get("kind") == "paused":
            states[topics.faces] = str(len(result.faces))
            states[topics.presence] = "ON" if result.faces else "OFF"
        with self._states_lock:
            self._states.update(states)
            self._states_sent_gen = -1
        if self.cfg.is_snapshot_enabled and frame is not None and self._conn.is_connected.is_set():
            from edge.mqtt.snapshot import encode_snapshot

            self._conn.publish(self._conn.topics.snapshot, encode_snapshot(result, frame), qos=0)
        self._wake.set()

    def publish_person(self, visit: PersonVisit) -> None:
        self._add(self._conn.topics.person, visit.to_json_dict())
        self._wake.set()

    def _add(self, topic: str, message: dict[str, object]) -> None:
        payload = json.dumps(message, separators=(",", ":")).encode()
        try:
            # while connected the spool may hold it in memory: the broker usually takes it
            # at once, and then it never costs the SD card a write
            self._spool.add(topic, payload, may_hold=self._conn.is_connected.is_set())
        except SpoolUnwritable as e:
            self._send_unspooled(topic, payload, e.reason)
        else:
            self._spool_works()

    def _send_unspooled(self, topic: str, payload: bytes, fault: str) -> None:
        if self._fault is None:
            self._fault_since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            log.error("result spool %s: %s; results go straight to the broker while it is "
                      "connected, and are dropped while it is not", self._spool.path, fault)
        self._fault = fault
        if self._conn.is_connected.is_set():
            self._conn.publish(topic, payload, qos=1)  # paho holds it
        else:
            self._drops.drop(fault)

    def _spool_works(self) -> None:
        if self._fault is not None:
            log.info("result spool writable again after %s since %s (%d result(s) dropped)",
                     self._fault, self._fault_since, self._drops.total)
            self._fault = None

    def drain(self, timeout_s: float) -> bool:
        """Wait until the spool is empty (True) while connected, for at most timeout_s."""
        deadline = time.monotonic() + timeout_s
        while self._conn.is_connected.is_set() and self._spool.depth() > 0:
            self._wake.set()
            if time.monotonic() >= deadline:
                break
            self._stop.wait(0.05)
        return self._spool.depth() == 0

    def _close(self) -> None:
        if self._flusher.is_alive:  # a clean stop sends what is spooled while connected
            self.drain(self._drain_s)
        self._stop.set()
        self._wake.set()
        self._flusher.join(FLUSH_STOP_S)
        self._spool.close()

    def _on_ack(self, mid: int) -> None:  # paho thread, holding paho's message lock
        self._acks.put(mid)
        self._wake.set()

    def _on_connect(self) -> None:  # paho thread
        self._connected_at = time.monotonic()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=min(1.0, self._spool.next_due_s()))
            self._wake.clear()
            try:
                self._take_acks()
                is_connected = self._conn.is_connected.is_set()
                # held results the broker has not taken go to the card: all of them once
                # it is away, since they will wait
                self._spool.persist_due(is_all=not is_connected)
                if is_connected:
                    self._send_states()
                    self._send_pending()
            except SpoolUnwritable:
                pass  # `publish` reports the fault; the spool retries on the next wake

    def _take_acks(self) -> None:
        done = []
        while True:
            try:
                mid = self._acks.get_nowait()
            except queue.Empty:
                break
            entry = self._in_flight.pop(mid, None)
            if entry is not None:
                done.append(entry[0])
        self._acked.update(done)
        if self._acked:
            self._spool.delete(*sorted(self._acked))  # kept for a retry if the card refuses
            self._acked.clear()

    def _send_pending(self) -> None:
        generation = self._conn.generation
        if any(gen != generation for _, gen in self._in_flight.values()):
            # paho resends these itself after a reconnect; new ones must wait behind them
            if time.monotonic() - self._connected_at < STALE_RESEND_S:
                return
            log.warning("%d result(s) unacknowledged since reconnecting: sending them again",
                        len(self._in_flight))
            self._in_flight.clear()
        room = MAX_IN_FLIGHT - len(self._in_flight)
        if room <= 0:
            return
        # acknowledged rows the card would not let us delete must not be sent again
        after = max([seq for seq, _ in self._in_flight.values()] + list(self._acked),
                    default=0)
        for item in self._spool.pending(after, room):
            info = self._conn.publish(item.topic, item.payload, qos=1)
            self._in_flight[info.mid] = (item.seq, generation)

    def _send_states(self) -> None:
        """The latest states, once per change and once per connection (they are retained)."""
        generation = self._conn.generation
        with self._states_lock:
            if not self._states or self._states_sent_gen == generation:
                return
            self._states_sent_gen = generation
            states = dict(self._states)
        for topic, value in states.items():
            self._conn.publish(topic, value, is_retained=True)
