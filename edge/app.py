"""The composition root: `build(settings)` wires every part, `run_daemon(settings)` runs it.

Open order: the pipeline (source, detector, classifier: `edge.assembly.open_pipeline`), then
MQTT (connection, publisher with its spool, Home Assistant discovery), then the worker, the
opt-in HTTP endpoint (`[http]`) and the triggers; `start()` starts the worker, the HTTP
server and the triggers, then opens the MQTT connection (so `online` follows the
subscriptions). `close()` closes them in reverse order, through one ExitStack:
triggers stop, the capture in progress finishes, the spool is flushed while connected,
`offline` is published, the connection closes, then the pipeline parts.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeVar

from edge.assembly import open_pipeline, part_checks
from edge.config import Settings
from edge.errors import EdgeError
from edge.http import HttpEndpoint
from edge.http.status import Status
from edge.mqtt.connection import MqttConnection
from edge.mqtt.discovery import HomeAssistantDiscovery
from edge.notify import Notifier
from edge.pause import PauseSwitch, pause_path
from edge.pipeline import Pipeline
from edge.ports import (
    BusyIndicator,
    EmotionClassifier,
    FaceDetector,
    FrameSource,
    ResultPublisher,
    Trigger,
)
from edge.sources.reopening import ReopeningSource
from edge.worker import Worker

log = logging.getLogger(__name__)

STATUS_PERIOD_S = 5.0

T = TypeVar("T")


@dataclass
class Parts:
    """Role objects given instead of built from settings (tests, benchmarks). The app still
    closes them."""

    source: FrameSource | None = None
    detector: FaceDetector | None = None
    classifier: EmotionClassifier | None = None
    publisher: ResultPublisher | None = None


class App:
    """The running daemon's parts, in open order. `start()` starts delivering triggers and
    tells systemd READY; `close()` undoes everything in reverse order and is idempotent."""

    def __init__(self, settings: Settings, notifier: Notifier, shutdown: threading.Event,
                 pause: PauseSwitch) -> None:
        self.settings = settings
        self.notifier = notifier
        self.shutdown = shutdown
        self.pipeline: Pipeline | None = None
        self.connection: MqttConnection | None = None
        self.publisher: ResultPublisher | None = None
        self.discovery: HomeAssistantDiscovery | None = None
        self.worker: Worker | None = None
        self.http: HttpEndpoint | None = None
        self.camera_problem: Callable[[], str | None] = lambda: None
        self.release_camera: Callable[[], None] = lambda: None
        self.pause = pause
        self.triggers: list[Trigger] = []
        self._stack = ExitStack()
        self._stack.callback(notifier.close)

    def own(self, part: AbstractContextManager[T]) -> T:
        """Enter `part` so that `close()` closes it, after everything opened later."""
        return self._stack.enter_context(part)

    @property
    def is_worker_stopped(self) -> bool:
        """False when the worker was closed with a capture still hung in the camera."""
        return self.worker is None or self.worker.is_stopped

    def start(self) -> None:
        assert self.worker is not None
        self.worker.start()
        if self.http is not None:
            self.http.server.start()
        for trigger in self.triggers:
            trigger.start(self.worker.fire)
        if self.connection is not None:
            # only now: `online` follows the subscriptions, so it means commands are heard
            self.connection.open()
        self.notifier.ready(self.status_text())
        log.info("ready: %s", self.status_text())

    def status_text(self) -> str:
        parts = []
        if self.connection is not None:
            cfg = self.connection.cfg
            state = "connected" if self.connection.is_connected.is_set() else "NOT connected"
            problem = self.mqtt_problem()
            parts.append(f"{problem or state} to {cfg.host}:{cfg.port}")
        if self.worker is not None:
            parts.append(f"{self.worker.captures} captures")
            if self.worker.failures:
                parts.append(f"{self.worker.failures} failed in a row")
            if self.worker.last_label is not None:
                parts.append(f"last: {self.worker.last_label}")
        if self.publisher is not None:
            parts.append(f"spool {self.publisher.depth}")
        # a fault goes first: systemctl status cuts a long STATUS= line; a pause is asked
        # for, not a fault (/healthz stays 200), but it leads the line all the same
        paused = ["camera paused"] if self.pause.is_paused else []
        return ", ".join(paused + self.problems() + parts)

    def problems(self) -> list[str]:
        """The faults the status line puts first: a hung capture, the camera, the spool."""
        problems = [self.camera_problem(), self.publisher.problem if self.publisher else None]
        if self.worker is not None:
            hung = self.worker.hung_for_s()
            if hung is not None:
                problems.insert(0, f"capture hung for {hung:.0f} s")
        return [p for p in problems if p]

    def health_problem(self) -> str | None:
        """Why /healthz answers 503, in the status line's words, or None: the faults it puts
        first, then the broker connection, then captures failing."""
        found = self.problems()
        if self.connection is not None and not self.connection.is_connected.is_set():
            cfg = self.connection.cfg
            found.append(f"{self.mqtt_problem() or 'NOT connected'} to {cfg.host}:{cfg.port}")
        if self.worker is not None and self.worker.failures:
            found.append(f"{self.worker.failures} failed in a row")
        return found[0] if found else None

    def http_status(self) -> Status:
        """The state the HTTP page, /healthz and /metrics show (any thread)."""
        assert self.pipeline is not None and self.worker is not None
        connection = self.connection
        return Status(
            device_id=self.settings.device_id, model=self.pipeline.classifier.model_name,
            detector=type(self.pipeline.detector).__name__,
            is_connected=None if connection is None else connection.is_connected.is_set(),
            broker=None if connection is None else f"{connection.cfg.host}:{connection.cfg.port}",
            spool_depth=self.publisher.depth if self.publisher else 0,
            queue_depth=self.worker.queue_depth,
            is_paused=self.pause.is_paused,
            captures=self.worker.captures, dropped=self.worker.dropped,
            problem=self.health_problem(), text=self.status_text())

    def mqtt_problem(self) -> str | None:
        """Why MQTT cannot recover on its own (see `MqttConnection.problem`), or None."""
        if self.connection is None:
            return None
        publisher = self.publisher
        return self.connection.problem(lambda: publisher.depth if publisher else 0)

    def close(self) -> None:
        self.notifier.stopping()
        self.shutdown.set()
        try:
            self._stack.close()
        except Exception:  # each part was still closed; the daemon is stopping anyway
            log.exception("error while closing the daemon's parts")


def build(settings: Settings, *, pin_factory: Any = None, environ: Mapping[str, str] | None = None,
          parts: Parts | None = None, shutdown: threading.Event | None = None) -> App:
    """Open every part the settings ask for; on any failure, close what was opened and
    raise (EdgeError subclasses say what to fix)."""
    env = os.environ if environ is None else environ
    app = App(settings, Notifier(env), shutdown or threading.Event(), PauseSwitch(
        pause_path(settings.mqtt.spool.path, env)))
    given = parts or Parts()
    try:
        app.pipeline = app.own(open_pipeline(settings, source=given.source,
                                             detector=given.detector,
                                             classifier=given.classifier))
        source = app.pipeline.source
        if isinstance(source, ReopeningSource):
            app.camera_problem = lambda: source.problem
            app.release_camera = source.release
        _build_mqtt(app, given.publisher, env)
        _build_worker(app)
        _build_http(app, env)
        _build_triggers(app, pin_factory)
    except BaseException:
        app.close()
        raise
    return app


def run_daemon(settings: Settings, *, pin_factory: Any = None,
               environ: Mapping[str, str] | None = None) -> int:
    """Run until SIGTERM/SIGINT; 0 after a clean stop, 1 if the worker was stuck.
    Call from the main thread (signal handlers)."""
    shutdown = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        shutdown.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        log.info("settings: %s", settings.model_dump_json())
        app = build(settings, pin_factory=pin_factory, environ=environ, shutdown=shutdown)
        try:
            app.start()
            status = ""
            while not shutdown.wait(STATUS_PERIOD_S):
                status = _report(app, status)
        finally:
            app.close()
        return 0 if app.is_worker_stopped else 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _report(app: App, previous: str) -> str:
    text = app.status_text()
    if text != previous:
        app.notifier.status(text)
    return text


def startup_problems(settings: Settings, environ: Mapping[str, str],
                     warn: Callable[[str], None] | None = None) -> list[str]:
    """The start-up checks of `build` that hold no device, one line per problem: the camera
    path or device node, the MQTT password and TLS files (the CA must parse), the result
    spool's path, the detector and the model (loaded, then closed). `emotion-edge
    check-config` runs them (systemd's ExecStartPre), so a config it passes does not fail at
    once in `run`. `warn` gets what is not a problem but worth saying (a detector falling
    back)."""
    from edge.http import check_http
    from edge.mqtt import check_spool, open_connection

    camera, *models = part_checks(settings, warn)
    checks: list[tuple[str, Callable[[], object]]] = [
        camera,
        ("mqtt", lambda: open_connection(settings.mqtt, settings.device_id, environ)),
        ("spool", lambda: check_spool(settings.mqtt, environ)),
        *models]
    if settings.http.is_enabled:
        checks.append(("http", lambda: check_http(settings.http, environ)))
    problems = []
    for role, check in checks:
        try:
            check()  # an MqttConnection that is never opened holds no socket
        except EdgeError as e:
            problems.append(f"{role}: {e}")
    return problems


def _build_mqtt(app: App, publisher: ResultPublisher | None, env: Mapping[str, str]) -> None:
    settings = app.settings
    if publisher is not None and not settings.trigger.is_mqtt_enabled:
        app.publisher = app.own(publisher)
        return
    from edge.mqtt import open_connection, open_publisher

    cfg = settings.mqtt
    connection = app.own(open_connection(cfg, settings.device_id, env))
    app.connection = connection
    if publisher is None:
        mqtt_publisher = app.own(open_publisher(cfg, connection, env))
        mqtt_publisher.start()
        publisher = mqtt_publisher
    else:
        app.own(publisher)
    app.publisher = publisher
    from edge.mqtt.pause import MqttPauseSwitch

    app.own(MqttPauseSwitch(connection, app.pause)).start()
    if cfg.discovery.is_enabled:
        assert app.pipeline is not None
        app.discovery = app.own(HomeAssistantDiscovery(
            cfg.discovery, connection, app.pipeline.classifier.labels, cfg.is_snapshot_enabled))
        app.discovery.start()


def _build_worker(app: App) -> None:
    from edge.continuous.mode import ContinuousMode, frame_averaging

    cfg = app.settings.trigger
    assert app.pipeline is not None and app.publisher is not None
    averaging = frame_averaging(app.settings.classifier, app.pipeline.classifier)
    continuous = ContinuousMode(cfg.continuous, averaging) if cfg.continuous.is_enabled else None
    app.worker = app.own(Worker(
        app.pipeline, app.publisher, shutdown=app.shutdown, notifier=app.notifier,
        queue_size=cfg.queue_size, min_interval_s=cfg.min_interval_s,
        capture_timeout_s=cfg.capture_timeout_s, continuous=continuous, pause=app.pause,
        release_camera=app.release_camera))
    if app.connection is not None:
        app.worker.add_health(app.mqtt_problem)


def _build_http(app: App, env: Mapping[str, str]) -> None:
    """The opt-in page, /metrics and /healthz; off, nothing is imported and nothing listens."""
    if not app.settings.http.is_enabled:
        return
    from edge.http import open_http

    assert app.worker is not None
    endpoint = open_http(app.settings.http, app.http_status, env)
    app.own(endpoint.server)
    app.worker.add_observer(endpoint.see)
    app.http = endpoint


def _build_triggers(app: App, pin_factory: Any) -> None:
    from edge.triggers import open_triggers

    assert app.worker is not None
    for _, trigger in open_triggers(app.settings.trigger, app.connection, pin_factory):
        app.triggers.append(app.own(trigger))
        if isinstance(trigger, BusyIndicator):  # the button's LED shows a capture under way
            app.worker.add_busy(trigger.show_busy)
