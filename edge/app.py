"""The composition root: `build(settings)` opens every part and returns the `App` holding
them, `run_daemon(settings)` runs it.

Open order: the pipeline (source, detector, classifier: `edge.assembly.open_pipeline`), then
MQTT (connection, publisher with its spool, pause switch, Home Assistant discovery), then
the worker, the opt-in HTTP endpoint (`[http]`) and the triggers. Every part is entered
into one ExitStack as it opens, so a constructor that raises closes what came before it,
last opened first, and `build` raises; the app exists only once every part does.
`start()` starts the worker, the HTTP server and the triggers, then opens the MQTT
connection (so `online` follows the subscriptions). `close()` unwinds the same stack:
triggers stop, the capture in progress finishes, the spool is flushed while connected,
`offline` is published, the connection closes, then the pipeline parts.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from edge.assembly import open_pipeline, part_checks
from edge.config import Settings
from edge.errors import EdgeError
from edge.lifetime import Resource
from edge.mqtt.connection import MqttConnection
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
from edge.status_line import StatusLine
from edge.worker import Worker

if TYPE_CHECKING:
    from edge.http.server import HttpServer

log = logging.getLogger(__name__)

STATUS_PERIOD_S = 5.0


@dataclass
class Parts:
    """Role objects given instead of built from settings (tests, benchmarks). The app takes
    them over before it opens anything, and closes them. A publisher given replaces the
    MQTT one; the MQTT connection still opens (commands, pause switch, discovery)."""

    source: FrameSource | None = None
    detector: FaceDetector | None = None
    classifier: EmotionClassifier | None = None
    publisher: ResultPublisher | None = None


@dataclass(eq=False, kw_only=True)
class App(Resource):
    """The running daemon, built whole by `build`: every part here is open. `start()` starts
    delivering triggers and tells systemd READY; `close()` tells it STOPPING, sets
    `shutdown` and closes every part, last opened first. Idempotent."""

    notifier: Notifier
    shutdown: threading.Event
    pause: PauseSwitch
    pipeline: Pipeline
    connection: MqttConnection
    publisher: ResultPublisher
    worker: Worker
    status: StatusLine
    servers: tuple[HttpServer, ...]  # the HTTP endpoint's when `[http]` is on, else none
    triggers: tuple[Trigger, ...]
    opened: ExitStack = field(repr=False)  # closes all of the above

    @property
    def is_worker_stopped(self) -> bool:
        """False when the worker was closed with a capture still hung in the camera."""
        return self.worker.is_stopped

    def start(self) -> None:
        self.worker.start()
        for server in self.servers:
            server.start()
        for trigger in self.triggers:
            trigger.start(self.worker.fire)
        # only now: `online` follows the subscriptions, so it means commands are heard
        self.connection.open()
        self.notifier.ready(self.status.text())
        log.info("ready: %s", self.status.text())

    def _close(self) -> None:
        self.notifier.stopping()
        self.shutdown.set()
        try:
            self.opened.close()
        except Exception:  # each part was still closed; the daemon is stopping anyway
            log.exception("error while closing the daemon's parts")


def build(settings: Settings, *, pin_factory: Any = None, environ: Mapping[str, str] | None = None,
          parts: Parts | None = None, shutdown: threading.Event | None = None) -> App:
    """Open every part the settings ask for and return the app holding them; when one
    fails, close what was opened, last first, and raise (EdgeError subclasses say what to
    fix)."""
    env = os.environ if environ is None else environ
    given = parts or Parts()
    with ExitStack() as stack:
        if given.publisher is not None:  # the pipeline's parts are taken over by open_pipeline
            stack.enter_context(given.publisher)
        pipeline = stack.enter_context(open_pipeline(
            settings, source=given.source, detector=given.detector, classifier=given.classifier))
        notifier = Notifier(env)
        stack.callback(notifier.close)
        pause = PauseSwitch(pause_path(settings.mqtt.spool.path, env))
        connection, publisher = _open_mqtt(stack, settings, pipeline, pause, given.publisher, env)
        stopping = shutdown or threading.Event()
        worker = stack.enter_context(_open_worker(
            settings, pipeline, publisher, notifier, pause, stopping))
        status = StatusLine(pipeline, connection, publisher, worker, pause)
        worker.add_health(status.mqtt_problem)
        servers = _open_http(stack, settings, worker, status, env)
        triggers = _open_triggers(stack, settings, connection, worker, pin_factory)
        app = App(notifier=notifier, shutdown=stopping, pause=pause, pipeline=pipeline,
                  connection=connection, publisher=publisher, worker=worker, status=status,
                  servers=servers, triggers=triggers, opened=stack.pop_all())
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
    text = app.status.text()
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

    source, *models = part_checks(settings, warn)
    checks: list[tuple[str, Callable[[], object]]] = [
        source,
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


def _open_mqtt(stack: ExitStack, settings: Settings, pipeline: Pipeline, pause: PauseSwitch,
               publisher: ResultPublisher | None,
               env: Mapping[str, str]) -> tuple[MqttConnection, ResultPublisher]:
    """The connection (not yet open: `App.start` opens it), the result publisher (the one
    given, else MQTT's, started), the pause switch's topics and, when enabled, discovery."""
    from edge.mqtt import open_connection, open_publisher
    from edge.mqtt.discovery import HomeAssistantDiscovery
    from edge.mqtt.pause import MqttPauseSwitch

    cfg = settings.mqtt
    connection = stack.enter_context(open_connection(cfg, settings.device_id, env))
    if publisher is None:
        mqtt_publisher = stack.enter_context(open_publisher(cfg, connection, env))
        mqtt_publisher.start()
        publisher = mqtt_publisher
    stack.enter_context(MqttPauseSwitch(connection, pause)).start()
    if cfg.discovery.is_enabled:
        stack.enter_context(HomeAssistantDiscovery(
            cfg.discovery, connection, pipeline.classifier.labels, cfg.is_snapshot_enabled
        )).start()
    return connection, publisher


def _open_worker(settings: Settings, pipeline: Pipeline, publisher: ResultPublisher,
                 notifier: Notifier, pause: PauseSwitch, shutdown: threading.Event) -> Worker:
    from edge.continuous.mode import ContinuousMode, frame_averaging

    cfg = settings.trigger
    continuous = None
    if cfg.continuous.is_enabled:
        averaging = frame_averaging(cfg.continuous, pipeline.classifier)
        continuous = ContinuousMode(cfg.continuous, averaging)
    work = settings.worker
    return Worker(pipeline, publisher, shutdown=shutdown, notifier=notifier,
                  queue_size=work.queue_size, min_interval_s=work.min_interval_s,
                  capture_timeout_s=work.capture_timeout_s, continuous=continuous, pause=pause)


def _open_http(stack: ExitStack, settings: Settings, worker: Worker, status: StatusLine,
               env: Mapping[str, str]) -> tuple[HttpServer, ...]:
    """The opt-in page, /metrics and /healthz; off, nothing is imported and nothing listens."""
    if not settings.http.is_enabled:
        return ()
    from edge.http import open_http

    endpoint = open_http(settings.http, status.http, env)
    stack.enter_context(endpoint.server)
    worker.add_observer(endpoint.see)
    return (endpoint.server,)


def _open_triggers(stack: ExitStack, settings: Settings, connection: MqttConnection,
                   worker: Worker, pin_factory: Any) -> tuple[Trigger, ...]:
    from edge.triggers import open_triggers

    triggers = []
    for _, trigger in open_triggers(settings.trigger, connection, pin_factory):
        triggers.append(stack.enter_context(trigger))
        if isinstance(trigger, BusyIndicator):  # the button's LED shows a capture under way
            worker.add_busy(trigger.show_busy)
    return tuple(triggers)
