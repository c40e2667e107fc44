"""sd_notify against a real AF_UNIX datagram socket, in process (the daemon subprocess
cases are in test_daemon.py)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.notify import Notifier


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    sock.settimeout(2)
    yield sock, path
    sock.close()


def test_unset_socket_is_a_silent_no_op() -> None:
    notifier = Notifier({})
    notifier.ready("x")
    notifier.watchdog()
    notifier.stopping()
    assert not notifier.is_enabled and notifier.watchdog_interval_s is None


def test_messages_reach_the_socket(manager: tuple[socket.socket, str]) -> None:
    sock, path = manager
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
    notifier.ready("connected")
    notifier.watchdog()
    notifier.status("3 captures")
    notifier.stopping()
    notifier.close()
    got = [sock.recv(4096).decode() for _ in range(4)]
    assert got == ["READY=1\nSTATUS=connected", "WATCHDOG=1", "STATUS=3 captures",
                   "STOPPING=1\nSTATUS=stopping"]
    assert notifier.watchdog_interval_s == 2.0


def test_abstract_socket() -> None:
    name = f"emotion-edge-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(2)
    try:
        Notifier({"NOTIFY_SOCKET": "@" + name}).ready("up")
        assert sock.recv(4096) == b"READY=1\nSTATUS=up"
    finally:
        sock.close()


def test_watchdog_for_another_pid_is_ignored(manager: tuple[socket.socket, str]) -> None:
    sock, path = manager
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000",
                         "WATCHDOG_PID": str(os.getpid() + 1)})
    notifier.watchdog()
    notifier.status("after")
    assert notifier.watchdog_interval_s is None
    assert sock.recv(4096) == b"STATUS=after"


def test_a_vanished_manager_does_not_raise(tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "notify.sock"
    notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000"})
    with caplog.at_level(logging.DEBUG, logger="edge.notify"):
        notifier.ready("nobody listens")
        notifier.watchdog()
        notifier.status("still nobody")
        notifier.stopping()
    failed = [r for r in caplog.records if r.getMessage().startswith("sd_notify to")]
    assert len(failed) == 4  # each call tried, failed and went on
    back = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        back.bind(str(path))
        back.settimeout(2)
        notifier.status("back")
        assert back.recv(4096) == b"STATUS=back"  # and it keeps talking once one listens
    finally:
        back.close()
        notifier.close()
