"""The composition root: `build(settings)` wires every part, `run_daemon(settings)` runs it.

Open order: pipeline parts (source, detector, classifier), then MQTT (spool, connection,
publisher, Home Assistant discovery), then the worker and the triggers; `start()` starts
the triggers, then opens the MQTT connection (so `online` follows the subscriptions). Close
order is the reverse: triggers stop, the capture in progress finishes, the spool is flushed while
connected, `offline` is published, the connection closes, then the pipeline parts.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

from edge.config import Settings
from edge.errors import EdgeError
from edge.mqtt.connection import MqttConnection
from edge.notify import Notifier
from edge.ports import (
    BusyIndicator,
    EmotionClassifier,
    FaceDetector,
    FrameSource,
    ResultPublisher,
    Trigger,
)
from edge.worker import Handler, Worker

log = logging.getLogger(__name__)

STATUS_PERIOD_S = 5.0
WORKER_STOP_S = 10.0  # the capture in progress may take this long before we give up on it
DRAIN_S = 5.0  # time to flush the spool on a clean stop


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

    def __init__(self, settings: Settings, notifier: Notifier, shutdown: threading.Event) -> None:
        self.settings = settings
        self.notifier = notifier
        self.shutdown = shutdown
        self.connection: MqttConnection | None = None
        self.publisher: ResultPublisher | None = None
        self.worker: Worker | None = None
        self.camera_problem: Callable[[], str | None] = lambda: None
        self.triggers: list[Trigger] = []
        self.is_worker_stopped = True
        self._closers: list[tuple[str, Callable[[], None]]] = []

    def own(self, name: str, close: Callable[[], None]) -> None:
        """Register what `close()` must undo, in open order."""
        self._closers.append((name, close))

    def start(self) -> None:
        assert self.worker is not None
        self.worker.start()
        self.is_worker_stopped = False
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
        problems = [self.camera_problem(), getattr(self.publisher, "problem", None)]
        if self.worker is not None:
            hung = self.worker.hung_for_s()
            if hung is not None:
                problems.insert(0, f"capture hung for {hung:.0f} s")
            parts.append(f"{self.worker.captures} captures")
            if self.worker.failures:
                parts.append(f"{self.worker.failures} failed in a row")
            if self.worker.last_label is not None:
                parts.append(f"last: {self.worker.last_label}")
        depth = getattr(self.publisher, "depth", None)
        if depth is not None:
            parts.append(f"spool {depth}")
        # a fault goes first: systemctl status cuts a long STATUS= line
        return ", ".join([p for p in problems if p] + parts)

    def mqtt_problem(self) -> str | None:
        """Why MQTT cannot recover on its own (see `MqttConnection.problem`), or None."""
        if self.connection is None:
            return None
        return self.connection.problem(lambda: int(getattr(self.publisher, "depth", 0)))

    def stop_worker(self) -> None:
        """Stop the worker after its capture in progress (part of `close`)."""
        self.shutdown.set()
        if self.worker is not None and not self.worker.join(WORKER_STOP_S):
            log.error("the capture in progress did not finish within %.0f s (camera hung?); "
                      "stopping anyway", WORKER_STOP_S)
            self.is_worker_stopped = False
            return
        self.is_worker_stopped = True

    def close(self) -> None:
        self.notifier.stopping()
        self.shutdown.set()
        while self._closers:
            name, close = self._closers.pop()
            try:
                close()
            except Exception:
                log.exception("error while closing %s", name)


def build(settings: Settings, *, pin_factory: Any = None, environ: Mapping[str, str] | None = None,
          parts: Parts | None = None, shutdown: threading.Event | None = None) -> App:
    """Open every part the settings ask for; on any failure, close what was opened and
    raise (EdgeError subclasses say what to fix)."""
    env = os.environ if environ is None else environ
    app = App(settings, Notifier(env), shutdown or threading.Event())
    app.own("notifier", app.notifier.close)
    given = parts or Parts()
    try:
        pipeline: Handler
        pipeline, labels = _build_pipeline(app, given)
        _build_mqtt(app, given, labels, env)
        _build_worker(app, pipeline)
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
    from edge.mqtt import check_spool, open_connection
    from edge.sources import check_source

    checks: list[tuple[str, Callable[[], object]]] = [
        ("camera", lambda: check_source(settings.camera)),
        ("mqtt", lambda: open_connection(settings.mqtt, settings.device_id, environ)),
        ("spool", lambda: check_spool(settings.mqtt, environ)),
        ("detector", lambda: _open_detector(settings, warn).close()),
        ("classifier", lambda: _open_classifier(settings).close())]
    problems = []
    for role, check in checks:
        try:
            check()  # an MqttConnection that is never opened holds no socket
        except EdgeError as e:
            problems.append(f"{role}: {e}")
    return problems


def _open_detector(settings: Settings,
                   warn: Callable[[str], None] | None = None) -> FaceDetector:
    from edge.detect import open_detector

    return open_detector(settings.detector, warn)


def _open_classifier(settings: Settings) -> EmotionClassifier:
    from edge.classify import open_classifier

    return open_classifier(settings.classifier)


def _build_pipeline(app: App, given: Parts) -> tuple[Handler, tuple[str, ...]]:
    from edge.pipeline import Pipeline

    settings = app.settings
    if given.source is None:
        from edge.sources import open_source
        from edge.sources.reopening import ReopeningSource

        source = ReopeningSource(lambda: open_source(settings.camera),
                                 open_source(settings.camera))
        app.camera_problem = lambda: source.problem
        given.source = source
    app.own("camera", given.source.close)
    if given.detector is None:
        given.detector = _open_detector(settings)
    app.own("detector", given.detector.close)
    if given.classifier is None:
        given.classifier = _open_classifier(settings)
    app.own("classifier", given.classifier.close)
    pipeline = Pipeline(given.source, given.detector, given.classifier, settings.device_id)
    return pipeline, tuple(given.classifier.labels)


def _build_mqtt(app: App, given: Parts, labels: tuple[str, ...], env: Mapping[str, str]) -> None:
    settings = app.settings
    if given.publisher is not None:
        app.publisher = given.publisher
        app.own("publisher", given.publisher.close)
        if not settings.trigger.is_mqtt_enabled:
            return
    from edge.mqtt import open_connection, open_publisher

    cfg = settings.mqtt
    connection = open_connection(cfg, settings.device_id, env)
    app.connection = connection
    if given.publisher is None:
        publisher, spool = open_publisher(cfg, connection, env)
        app.own("spool", spool.close)
        app.publisher = publisher
        app.own("connection", connection.close)
        publisher.start()

        def drain_and_close() -> None:
            publisher.drain(DRAIN_S)  # a clean stop sends what is spooled while connected
            publisher.close()

        app.own("publisher", drain_and_close)
    else:
        app.own("connection", connection.close)
    if cfg.discovery.is_enabled:
        from edge.mqtt.discovery import HomeAssistantDiscovery

        HomeAssistantDiscovery(cfg.discovery, connection, labels,
                               cfg.is_snapshot_enabled).start()


def _build_worker(app: App, pipeline: Handler) -> None:
    from edge.continuous import ContinuousMode

    cfg = app.settings.trigger
    assert app.publisher is not None
    continuous = ContinuousMode(cfg.continuous) if cfg.continuous.is_enabled else None
    app.worker = Worker(pipeline, app.publisher, shutdown=app.shutdown, notifier=app.notifier,
                        queue_size=cfg.queue_size, min_interval_s=cfg.min_interval_s,
                        capture_timeout_s=cfg.capture_timeout_s, continuous=continuous)
    if app.connection is not None:
        app.worker.add_health(app.mqtt_problem)
    app.own("worker", app.stop_worker)


def _build_triggers(app: App, pin_factory: Any) -> None:
    from edge.triggers import open_triggers

    assert app.worker is not None
    for name, trigger in open_triggers(app.settings.trigger, app.connection, pin_factory):
        app.triggers.append(trigger)
        app.own(name, trigger.close)
        if isinstance(trigger, BusyIndicator):  # the button's LED shows a capture under way
            app.worker.add_busy(trigger.show_busy)
