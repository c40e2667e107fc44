"""How parts end: `Resource` and `OwnedThread`."""

from __future__ import annotations

import threading

import pytest

from edge.lifetime import OwnedThread, Resource


class Counted(Resource):
    def __init__(self, error: Exception | None = None) -> None:
        self.releases = 0
        self._error = error

    def _close(self) -> None:
        self.releases += 1
        if self._error is not None:
            raise self._error


def test_close_releases_once_and_with_closes() -> None:
    with Counted() as part:
        assert not part.closed
    assert part.closed and part.releases == 1
    part.close()
    assert part.releases == 1


def test_a_release_that_fails_is_not_tried_again() -> None:
    part = Counted(OSError("device gone"))
    with pytest.raises(OSError, match="device gone"):
        part.close()
    part.close()
    assert part.closed and part.releases == 1


def test_closing_from_many_threads_releases_once() -> None:
    part = Counted()
    start = threading.Barrier(8)

    def close() -> None:
        start.wait()
        part.close()

    threads = [threading.Thread(target=close) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert part.releases == 1


def test_an_owned_thread_stops_when_asked() -> None:
    ticks = threading.Semaphore(0)

    def loop() -> None:
        while not thread.stopping.wait(0.01):
            ticks.release()

    thread = OwnedThread(loop, "ticker")
    assert thread.join(0)  # never started: nothing to wait for
    thread.start()
    assert ticks.acquire(timeout=5) and thread.is_alive
    assert thread.stop(5) and not thread.is_alive


def test_a_stuck_thread_is_given_up_on_after_the_timeout() -> None:
    release = threading.Event()
    thread = OwnedThread(lambda: release.wait(10) and None, "stuck")
    thread.start()
    assert not thread.stop(0.05)  # stuck in a "driver": stop returns, the thread lives on
    assert thread.stopping.is_set() and thread.is_alive
    release.set()
    assert thread.join(5)


def test_an_owned_thread_can_use_its_owners_event() -> None:
    shutdown = threading.Event()
    thread = OwnedThread(lambda: shutdown.wait(10) and None, "worker", stopping=shutdown)
    thread.start()
    assert thread.stop(5) and shutdown.is_set()
