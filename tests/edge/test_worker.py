"""The worker alone: error results and watchdog pings across camera failures, merging by
time."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.notify import Notifier
from edge.pipeline import Pipeline
from edge.ports import Frame, TriggerEvent
from edge.worker import Worker
from tests import wait
from tests.fakes import CountingSource, FixedClassifier, FixedDetector, ListPublisher


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "n.sock"))
    yield sock
    sock.close()


def wait_pings(sock: socket.socket, count: int, timeout_s: float = 10.0) -> None:
    """Return once `count` more watchdog pings have come; TimeoutError if not in timeout_s."""
    deadline = time.monotonic() + timeout_s
    while count > 0:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            count -= sock.recv(64) == b"WATCHDOG=1"
        except TimeoutError:
            raise TimeoutError(f"{count} watchdog ping(s) short after {timeout_s} s") from None


def received(sock: socket.socket) -> list[bytes]:
    """The datagrams already in the socket, without waiting."""
    got = []
    sock.setblocking(False)
    try:
        while True:
            got.append(sock.recv(64))
    except BlockingIOError:
        return got
    finally:
        sock.setblocking(True)


def make_worker(source: CountingSource, publisher: ListPublisher, sock: socket.socket,
                min_interval_s: float = 0.0) -> tuple[Worker, threading.Event]:
    shutdown = threading.Event()
    notifier = Notifier({"NOTIFY_SOCKET": sock.getsockname(), "WATCHDOG_USEC": "200000"})
    pipeline = Pipeline(source, FixedDetector(), FixedClassifier(), "dev")
    worker = Worker(pipeline, publisher, shutdown=shutdown, notifier=notifier, queue_size=4,
                    min_interval_s=min_interval_s)
    worker.start()
    return worker, shutdown


def test_camera_failures_are_answered_with_errors_and_keep_the_pings(
        manager: socket.socket) -> None:
    source, publisher = CountingSource(), ListPublisher()
    worker, shutdown = make_worker(source, publisher, manager)
    try:
        wait_pings(manager, 3)  # idle and healthy
        source.fail_next = 3
        for n in range(3):
            worker.fire(TriggerEvent("mqtt", request_id=f"r{n}", at=time.monotonic()))
        for n in range(3):
            failed = publisher.next()
            assert failed.request_id == f"r{n}" and failed.faces == ()
            assert failed.error is not None and failed.error["kind"] == "camera"
        wait_pings(manager, 2)  # the source reopens itself
        assert worker.is_healthy
        worker.fire(TriggerEvent("mqtt", at=time.monotonic()))
        assert publisher.next().error is None and worker.failures == 0
    finally:
        shutdown.set()
        assert worker.join(2)


def test_triggers_within_min_interval_are_merged(manager: socket.socket) -> None:
    source, publisher = CountingSource(), ListPublisher()
    worker, shutdown = make_worker(source, publisher, manager, min_interval_s=10.0)
    try:
        now = time.monotonic()
        worker.fire(TriggerEvent("button", at=now))
        worker.fire(TriggerEvent("button", at=now + 0.1))
        worker.fire(TriggerEvent("mqtt", at=now + 0.2))
        worker.fire(TriggerEvent("mqtt", request_id="marker", at=now + 0.3))  # never merged
        assert publisher.next().request_id is None
        assert publisher.next().request_id == "marker"  # the two before it had their turn
        assert len(publisher.published) == 2 and worker.merged == 2
    finally:
        shutdown.set()
        assert worker.join(2)


def test_a_request_with_an_id_is_never_merged(manager: socket.socket) -> None:
    source, publisher = CountingSource(), ListPublisher()
    worker, shutdown = make_worker(source, publisher, manager, min_interval_s=10.0)
    try:
        now = time.monotonic()
        worker.fire(TriggerEvent("button", at=now))
        worker.fire(TriggerEvent("mqtt", request_id="waiting", at=now + 0.1))
        assert publisher.next().request_id is None
        assert publisher.next().request_id == "waiting"
        assert worker.merged == 0
    finally:
        shutdown.set()
        assert worker.join(2)


class BlockingSource(CountingSource):
    """A camera whose reads block until `unblock` is set: a driver that hangs."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()

    def read(self) -> Frame:
        self.entered.set()
        self.unblock.wait(10)
        return super().read()


def test_a_hung_capture_is_answered_and_the_pings_resume_when_it_returns(
        manager: socket.socket) -> None:
    source, publisher = BlockingSource(), ListPublisher()
    shutdown = threading.Event()
    notifier = Notifier({"NOTIFY_SOCKET": manager.getsockname(), "WATCHDOG_USEC": "200000"})
    worker = Worker(Pipeline(source, FixedDetector(), FixedClassifier(), "dev"), publisher,
                    shutdown=shutdown, notifier=notifier, queue_size=4, min_interval_s=0,
                    capture_timeout_s=0.3)
    decisions: list[float] = []

    def decide() -> None:  # the worker asks its health checks before each ping it may send
        decisions.append(time.monotonic())

    worker.add_health(decide)
    worker.start()
    try:
        worker.fire(TriggerEvent("mqtt", request_id="hung", at=time.monotonic()))
        hung = publisher.next()
        assert hung.request_id == "hung" and hung.error is not None
        worker.fire(TriggerEvent("mqtt", request_id="next", at=time.monotonic()))
        assert "capture hung" in (publisher.next(1.0).error or {})["reason"]
        assert not worker.is_healthy
        seen = len(decisions)  # from the next decision on, the hang was known
        wait.until(lambda: len(decisions) > seen, what="a ping decision during the hang")
        received(manager)  # pings decided before the hang
        wait.until(lambda: len(decisions) > seen + 3, what="three more ping decisions")
        assert b"WATCHDOG=1" not in received(manager)  # each decided against a ping
        source.unblock.set()  # the driver returns: healthy again, captures work
        wait_pings(manager, 1)
        assert worker.is_healthy
        worker.fire(TriggerEvent("mqtt", request_id="ok", at=time.monotonic()))
        assert publisher.next().error is None
    finally:
        source.unblock.set()
        shutdown.set()
        assert worker.join(2)


def test_a_request_with_an_id_that_finds_the_queue_full_is_answered_busy(
        manager: socket.socket) -> None:
    source, publisher = BlockingSource(), ListPublisher()
    worker, shutdown = make_worker(source, publisher, manager)
    try:
        worker.fire(TriggerEvent("mqtt", request_id="r0", at=time.monotonic()))
        assert source.entered.wait(5)  # r0 runs (blocked)
        for n in range(1, 6):  # four wait, the last finds the queue full
            worker.fire(TriggerEvent("mqtt", request_id=f"r{n}", at=time.monotonic()))
        source.unblock.set()
        answers = {r.request_id: r for r in (publisher.next() for _ in range(6))}
        assert (answers["r5"].error or {})["kind"] == "busy"
        assert all(answers[f"r{n}"].error is None for n in range(5))
    finally:
        source.unblock.set()
        shutdown.set()
        assert worker.join(2)
