"""The one worker thread: takes trigger events from one bounded queue, merges floods, runs
the pipeline (`capture.py`: on a helper thread, with a timeout), hands each result, or an
error result when no capture could be made, to the publisher (`delivery.py`) and pings the
systemd watchdog (`watchdog.py`); follows the pause switch and continuous mode."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from edge.capture import CaptureFailed, TimedCapture
from edge.continuous.mode import ContinuousMode
from edge.delivery import Delivery
from edge.lifetime import OwnedThread, Resource
from edge.notify import Notifier
from edge.pause import PauseSwitch
from edge.ports import Frame, FrameSource, Result, ResultPublisher, TriggerEvent
from edge.watchdog import Watchdog

log = logging.getLogger(__name__)

STOP_S = 10.0  # the capture in progress may take this long to finish before close gives up
MAX_REFUSED = 64  # refused requests with an id kept for a "busy" answer; older ones are lost


class Handler(Protocol):
    """What the worker runs per event: `edge.pipeline.Pipeline` or a test double."""

    def handle(self, event: TriggerEvent) -> tuple[Result, Frame]: ...

    def failed(self, event: TriggerEvent, kind: str, reason: str) -> Result: ...

    @property
    def device_id(self) -> str: ...

    @property
    def model_name(self) -> str: ...

    @property
    def source(self) -> FrameSource: ...


class Worker(Resource):
    """Owns the event queue and the worker thread. `fire` is called by triggers on their
    own threads and only enqueues (a full queue drops the event, counted and logged once
    per burst). The thread stops when `shutdown` is set, after the capture in progress;
    `close()` sets it and waits at most `stop_timeout_s` for that capture (the app closes
    the worker after the triggers, before the publisher). `busy` callbacks (the button LED)
    see True while a capture runs.

    Every capture is answered: when it fails or takes longer than `capture_timeout_s`, an
    error result goes out instead (for continuous mode only the first of a run of
    failures). No watchdog ping is sent while a capture runs, so one that hangs longer
    than the watchdog interval gets the daemon restarted; requests meanwhile are answered
    with an error at once. A failing camera alone does not stop the pings: the source
    reopens itself, and a restart could not bring an unplugged camera back.

    While `pause` is on, the worker calls the source's `release()` once (the camera is
    closed, and reopened by the next capture after the pause), ends continuous mode's
    tracks, and answers every capture request with a `paused` error result."""

    def __init__(self, pipeline: Handler, publisher: ResultPublisher, *,
                 shutdown: threading.Event, notifier: Notifier, queue_size: int,
                 min_interval_s: float, capture_timeout_s: float = 10.0,
                 continuous: ContinuousMode | None = None,
                 busy: Sequence[Callable[[bool], None]] = (),
                 stop_timeout_s: float = STOP_S, pause: PauseSwitch | None = None) -> None:
        self._pipeline = pipeline
        self._queue: queue.Queue[TriggerEvent] = queue.Queue(maxsize=queue_size)
        self._refused: deque[TriggerEvent] = deque(maxlen=MAX_REFUSED)  # thread-safe appends
        self._min_interval_s = min_interval_s
        self._stop_timeout_s = stop_timeout_s
        self._capture = TimedCapture(pipeline.handle, capture_timeout_s, busy)
        self._delivery = Delivery(publisher)
        self._watchdog = Watchdog(notifier, is_stuck=lambda: self.hung_for_s() is not None)
        self._continuous = continuous
        self._pause = pause
        self._is_released = False
        self.captures = 0
        self.dropped = 0
        self.merged = 0
        self.failures = 0  # consecutive
        self.last_label: str | None = None
        self._last_capture_at = float("-inf")
        self._thread = OwnedThread(self._run, "worker", stopping=shutdown)
        self._shutdown = self._thread.stopping

    def add_busy(self, show: Callable[[bool], None]) -> None:
        """Also call `show(True)` / `show(False)` around each capture."""
        self._capture.add_busy(show)

    def add_health(self, check: Callable[[], str | None]) -> None:
        """Also stop the watchdog pings while `check()` names a problem (the MQTT side)."""
        self._watchdog.add_check(check)

    def add_observer(self, see: Callable[[Result, Frame | None], None]) -> None:
        """Also hand `see` every trigger's raw result, with its frame by reference (None for
        an error), on this thread, before continuous mode's smoothing: the HTTP page and
        metrics. `see` must only store references and return."""
        self._delivery.add_observer(see)

    @property
    def queue_depth(self) -> int:
        """Triggers waiting in the queue."""
        return self._queue.qsize()

    @property
    def is_paused(self) -> bool:
        return self._pause is not None and self._pause.is_paused

    @property
    def is_healthy(self) -> bool:
        return self._watchdog.is_healthy

    def hung_for_s(self) -> float | None:
        """How long the capture in progress has run when it outlived its timeout, else None."""
        return self._capture.hung_for_s()

    def fire(self, event: TriggerEvent) -> None:
        """Enqueue a capture; never blocks (called from library threads). A request with an
        id that finds the queue full is answered "busy" by the worker thread."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            if event.request_id is not None:
                self._refused.append(event)
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning("capture queue full (%d): dropped %s trigger (%d dropped so far)",
                            self._queue.maxsize, event.kind, self.dropped)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float) -> bool:
        """Wait for the capture in progress to finish; False if the worker is stuck."""
        self._thread.join(timeout_s)
        return self.is_stopped

    @property
    def is_stopped(self) -> bool:
        """True before `start()` and once the thread has ended with no capture left hung."""
        return not self._thread.is_alive and self._capture.running_for_s() is None

    def _close(self) -> None:
        if not self._thread.stop(self._stop_timeout_s) or not self.is_stopped:
            log.error("the capture in progress did not finish within %.0f s (camera hung?); "
                      "stopping anyway", self._stop_timeout_s)
        self._capture.stop()

    def _run(self) -> None:
        while not self._shutdown.is_set():
            event = self._next_event()
            self._follow_pause()
            self._watchdog.ping_if_due()
            self._answer_refused()
            if event is not None and not self._shutdown.is_set():
                self._take(event)

    def _answer_refused(self) -> None:
        while self._refused:
            event = self._refused.popleft()
            result = self._pipeline.failed(event, "busy", (
                f"capture queue full ({self._queue.maxsize} waiting): request not run; "
                "send it again later"))
            self._delivery.observe(result, None)
            self._delivery.publish(result)

    def _next_event(self) -> TriggerEvent | None:
        timeout = self._watchdog.wake_s
        continuous = None if self.is_paused else self._continuous
        if continuous is not None:
            timeout = min(timeout, continuous.due_in_s())
        try:
            return self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            pass
        return continuous.next_event() if continuous is not None else None

    def _follow_pause(self) -> None:
        """Close the camera and end the tracks once per pause (worker thread: no read runs)."""
        if not self.is_paused:
            self._is_released = False
            return
        if self._is_released or self._capture.running_for_s() is not None:
            return
        self._is_released = True
        try:
            self._pipeline.source.release()
        except Exception:  # a camera that fails to close is closed as far as we can
            log.exception("closing the camera for the pause failed")
        if self._continuous is not None:  # nobody is watched now: say so, once
            self._delivery.publish_people(self._continuous.end_all(self._pipeline.device_id,
                                                                   self._pipeline.model_name))
            self._delivery.publish(self._paused(self._continuous.event()))

    def _is_frame(self, event: TriggerEvent) -> bool:
        return self._continuous is not None and self._continuous.is_frame(event)

    def _is_merged(self, event: TriggerEvent) -> bool:
        # A request that carries an id has someone waiting for that id: never merge it away.
        if self._is_frame(event) or event.request_id is not None or self._min_interval_s <= 0:
            return False
        at = event.at or time.monotonic()
        if at - self._last_capture_at < self._min_interval_s:
            self.merged += 1
            log.debug("merged %s trigger into the capture %.3f s before", event.kind,
                      at - self._last_capture_at)
            return True
        return False

    def _take(self, event: TriggerEvent) -> None:
        """Capture for `event` unless it is merged, paused or the camera is still hung."""
        if self._is_merged(event):
            return
        if self.is_paused:
            if not self._is_frame(event):
                self._delivery.publish(self._paused(event))
            return
        running = self._capture.running_for_s()
        if running is not None:  # the source is still inside the earlier read
            hung = self._pipeline.failed(event, "camera", (
                f"capture hung: the camera has not returned a frame for {running:.0f} s"))
            self._delivery.observe(hung, None)
            self._delivery.publish(hung)
            return
        self._last_capture_at = time.monotonic()
        outcome = self._capture.run(event)
        if isinstance(outcome, CaptureFailed):
            self._failed(event, outcome.kind, outcome.reason)
            return
        result, frame = outcome
        if self.failures:
            log.info("camera is back after %d failed capture(s)", self.failures)
        self.failures = 0
        self._delivery.observe(result, frame)
        self._publish(event, result, frame)

    def _publish(self, event: TriggerEvent, result: Result, frame: Frame) -> None:
        if self._continuous is not None and self._is_frame(event):
            step = self._continuous.consider(result)
            self._delivery.publish_people(step.ended)
            if step.result is None:
                return
            result = step.result
        self.captures += 1
        top = result.dominant
        self.last_label = top.label if top else "none"
        self._delivery.publish(result, frame)

    def _paused(self, event: TriggerEvent) -> Result:
        return self._pipeline.failed(event, "paused", (
            "detection is paused (the Pause camera switch in Home Assistant, or ON on the "
            "pause/set topic): turn it OFF to capture"))

    def _failed(self, event: TriggerEvent, kind: str, reason: str) -> None:
        self.failures += 1
        if self.failures == 1:
            log.error("capture failed: %s", reason)
        result = self._pipeline.failed(event, kind, reason)
        self._delivery.observe(result, None)
        if not self._is_frame(event) or self.failures == 1:
            self._delivery.publish(result)
