"""`StatusLine`: the daemon's state in words, read from its parts: systemd's STATUS= line,
the fault /healthz answers 503 with, and the state the HTTP page and /metrics show."""

from __future__ import annotations

from edge.http.status import Status
from edge.mqtt.connection import MqttConnection
from edge.pause import PauseSwitch
from edge.pipeline import Pipeline
from edge.ports import ResultPublisher
from edge.worker import Worker


class StatusLine:
    """Reads the parts the app built; any thread, nothing to close. Faults go first:
    `systemctl status` cuts a long STATUS= line."""

    def __init__(self, pipeline: Pipeline, connection: MqttConnection,
                 publisher: ResultPublisher, worker: Worker, pause: PauseSwitch) -> None:
        self._pipeline = pipeline
        self._connection = connection
        self._publisher = publisher
        self._worker = worker
        self._pause = pause
        self._broker = f"{connection.cfg.host}:{connection.cfg.port}"

    def text(self) -> str:
        """The STATUS= line: pause, faults, broker, captures, spool."""
        worker = self._worker
        state = "connected" if self._connection.is_connected.is_set() else "NOT connected"
        parts = [f"{self.mqtt_problem() or state} to {self._broker}",
                 f"{worker.captures} captures"]
        if worker.failures:
            parts.append(f"{worker.failures} failed in a row")
        if worker.last_label is not None:
            parts.append(f"last: {worker.last_label}")
        parts.append(f"spool {self._publisher.depth}")
        # a pause is asked for, not a fault (/healthz stays 200), but it leads the line
        paused = ["camera paused"] if self._pause.is_paused else []
        return ", ".join(paused + self.problems() + parts)

    def problems(self) -> list[str]:
        """The faults the line puts first: a hung capture, the camera, the spool."""
        hung = self._worker.hung_for_s()
        found = [None if hung is None else f"capture hung for {hung:.0f} s",
                 self._pipeline.source.problem, self._publisher.problem]
        return [p for p in found if p]

    def health_problem(self) -> str | None:
        """Why /healthz answers 503, in the line's words, or None: the faults it puts first,
        then the broker connection, then captures failing."""
        found = self.problems()
        if not self._connection.is_connected.is_set():
            found.append(f"{self.mqtt_problem() or 'NOT connected'} to {self._broker}")
        if self._worker.failures:
            found.append(f"{self._worker.failures} failed in a row")
        return found[0] if found else None

    def mqtt_problem(self) -> str | None:
        """Why MQTT cannot recover on its own (see `MqttConnection.problem`), or None."""
        return self._connection.problem(lambda: self._publisher.depth)

    def http(self) -> Status:
        """The state the HTTP page, /healthz and /metrics show."""
        pipeline, worker = self._pipeline, self._worker
        return Status(
            device_id=pipeline.device_id, model=pipeline.model_name,
            detector=type(pipeline.detector).__name__,
            is_connected=self._connection.is_connected.is_set(), broker=self._broker,
            spool_depth=self._publisher.depth, queue_depth=worker.queue_depth,
            is_paused=self._pause.is_paused, captures=worker.captures, dropped=worker.dropped,
            problem=self.health_problem(), text=self.text())
