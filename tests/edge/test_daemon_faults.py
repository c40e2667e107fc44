"""What a Pi meets in a year on a shelf, against the real daemon process (`python -m edge
run`), a real mosquitto and real filesystems: a full SD card (a small tmpfs), a card the
kernel remounts read-only (a loop-mounted ext4 with errors=remount-ro and its
`trigger_fs_error`), a camera that goes and comes back, a camera read that hangs, and a
wall clock that jumps. Mounting needs root (CI runs as root); elsewhere those tests skip."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import pytest

from tests import wait
from tests.edge.daemon import REPO, Daemon, NotifySocket
from tests.edge.test_cli import RESULT_SCHEMA
from tests.edge.test_daemon import (
    RESULT,
    STATUS,
    answered,
    daemon_config,
    spool_depth,
    start_online,
    status_line,
)
from tests.fixtures.broker import Broker, Watcher

pytestmark = pytest.mark.daemon
Watch = Callable[..., Watcher]


def _mount(args: list[str], target: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem for the state directory needs root")
    done = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({' '.join(args)}): {done.stderr.strip()}")


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: an SD card that can fill up."""
    where = tmp_path / "card"
    where.mkdir()
    _mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs"], where)
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def ext4_card(tmp_path: Path) -> Iterator[Path]:
    """A loop-mounted 8 MiB ext4 with errors=remount-ro, as SD cards are mounted."""
    image, where = tmp_path / "card.img", tmp_path / "card"
    where.mkdir()
    with image.open("wb") as f:
        f.truncate(8 << 20)
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 is not installed (e2fsprogs)")
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    _mount(["-o", "loop,errors=remount-ro", str(image)], where)
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> Path:
    """Write zeros into `folder/filler` until the filesystem says ENOSPC."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC
    return filler


def remount_read_only(card: Path) -> None:
    """What the kernel does to an SD card after an I/O error: ext4's emergency read-only."""
    device = os.path.basename(os.path.realpath(_source_of(card)))
    Path(f"/sys/fs/ext4/{device}/trigger_fs_error").write_text("1")
    with pytest.raises(OSError):
        (card / "probe").write_text("x")


def _source_of(mount_point: Path) -> str:
    for line in Path("/proc/mounts").read_text().splitlines():
        source, target, *_ = line.split()
        if target == str(mount_point):
            return source
    raise AssertionError(f"{mount_point} is not mounted")


def back_online(broker: Broker, watch: Watch) -> Watcher:
    """Start `broker` again; a watcher once the daemon has said `online` to it."""
    broker.start()
    watcher = watch(broker, (RESULT, STATUS))
    assert watcher.next(STATUS, timeout_s=30)[1] == b"online"
    return watcher


def test_a_full_card_keeps_live_results_and_spooling_resumes(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path, images: Path,
        notify: NotifySocket, daemons: Callable[..., Daemon], small_tmpfs: Path) -> None:
    spool = small_tmpfs / "spool.sqlite"
    config = daemon_config(tmp_path, mosquitto, tiny_model, images, interval_s=0.2)
    config["mqtt"]["spool"]["path"] = str(spool)
    daemon = daemons(tmp_path, config, {"NOTIFY_SOCKET": str(notify.path)})
    start_online(daemon, watch(mosquitto, (STATUS,)))
    filler = fill(small_tmpfs)
    mosquitto.stop()  # now results can be neither sent nor spooled
    wait.until(lambda: "disk full: dropped" in daemon.log_text(), 60, "a 'disk full' drop")
    assert "spool: disk full since" in status_line(notify, "STATUS=spool: disk full", 15)
    assert answered(back_online(mosquitto, watch), "while-full").get("error") is None
    filler.unlink()  # space is back: spooling resumes by itself
    mosquitto.stop()
    wait.until(lambda: spool_depth(spool) >= 3, 30, "results spooled again")
    mosquitto.start()
    wait.until(lambda: spool_depth(spool) == 0, 30, "the spool drained")
    assert daemon.stop() == 0
    log = daemon.log_text()
    assert log.count("disk full: dropped") == 1  # at most one line a minute
    assert "spooling resumes" in log or "writable again" in log
    assert "Traceback" not in log


def test_a_card_gone_read_only_keeps_live_results_and_the_daemon_starts_on_it(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path, images: Path,
        notify: NotifySocket, daemons: Callable[..., Daemon], ext4_card: Path) -> None:
    config = daemon_config(tmp_path, mosquitto, tiny_model, images)
    config["mqtt"]["spool"]["path"] = str(ext4_card / "spool.sqlite")
    # every result on the card at once, so the first one after the remount meets the fault
    # (by default a result the broker takes in time is never written)
    config["mqtt"]["spool"]["write_after_s"] = 0
    watcher = watch(mosquitto, (RESULT, STATUS))
    daemon = daemons(tmp_path, config, {"NOTIFY_SOCKET": str(notify.path)})
    start_online(daemon, watcher)
    assert answered(watcher, "before").get("error") is None
    remount_read_only(ext4_card)
    assert answered(watcher, "read-only").get("error") is None  # straight to the broker
    status_line(notify, "STATUS=spool: read-only since", 15)
    config["trigger"]["interval_s"] = 0.2
    assert daemon.stop() == 0
    assert watcher.next(STATUS, timeout_s=10)[1] == b"offline"
    # what systemd does next: check-config (ExecStartPre), then the daemon, on the same card
    check = subprocess.run([sys.executable, "-m", "edge", "check-config", "--config",
                            str(daemon.config_path)], cwd=REPO, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    again = daemons(tmp_path, config, {"NOTIFY_SOCKET": str(notify.path)})
    start_online(again, watcher)
    assert answered(watcher, "after-restart").get("error") is None
    mosquitto.stop()
    wait.until(lambda: "read-only: dropped" in again.log_text(), 30, "a 'read-only' drop")
    assert answered(back_online(mosquitto, watch), "back").get("error") is None
    assert again.stop() == 0
    for run in (daemon, again):
        assert "Traceback" not in run.log_text()


def test_a_camera_that_goes_and_comes_back_answers_with_errors_then_works(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path, images: Path,
        notify: NotifySocket, daemons: Callable[..., Daemon]) -> None:
    watcher = watch(mosquitto, (RESULT, STATUS))
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "400000"}
    daemon = daemons(tmp_path, daemon_config(tmp_path, mosquitto, tiny_model, images), env)
    start_online(daemon, watcher)
    assert answered(watcher, "before").get("error") is None
    unplugged = images.rename(tmp_path / "unplugged")  # the folder source's camera is gone
    for request_id in ("gone-1", "gone-2"):
        gone = answered(watcher, request_id)
        jsonschema.validate(gone, RESULT_SCHEMA)
        assert gone["error"]["kind"] == "camera" and gone["faces"] == []
    assert "camera lost since" in status_line(notify, "STATUS=camera lost since", 10)
    notify.flush()
    notify.wait_for("WATCHDOG=1", timeout_s=2, count=2)  # a restart would not bring it back
    unplugged.rename(images)  # plugged in again: reopened within the backoff, no restart

    def works() -> bool:
        return answered(watcher, f"back-{time.monotonic()}").get("error") is None

    wait.until(works, 40, "a capture after the camera came back")
    assert daemon.stop() == 0
    log = daemon.log_text()
    assert "camera lost" in log and "camera back" in log and "Traceback" not in log


def test_a_hung_camera_read_is_answered_in_time_and_stops_the_watchdog(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path,
        notify: NotifySocket, daemons: Callable[..., Daemon]) -> None:
    folder = tmp_path / "hung"
    folder.mkdir()
    photo = folder / "a.jpg"
    os.mkfifo(photo)  # reading it blocks while we hold its write end and write nothing
    config = daemon_config(tmp_path, mosquitto, tiny_model, folder,
                           worker={"capture_timeout_s": 1.0})
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "400000"}
    watcher = watch(mosquitto, (RESULT, STATUS))
    daemon = daemons(tmp_path, config, env)
    start_online(daemon, watcher)
    notify.wait_for("WATCHDOG=1", timeout_s=2, count=2)  # healthy while idle
    started = time.monotonic()
    hung = answered(watcher, "hung", timeout_s=5)  # every request is answered in time
    assert time.monotonic() - started < 1.0 + 2.0
    jsonschema.validate(hung, RESULT_SCHEMA)
    assert hung["error"]["kind"] == "camera" and "capture_timeout_s" in hung["error"]["reason"]
    meanwhile = answered(watcher, "meanwhile", timeout_s=2)  # at once, not after 1 s more
    assert "capture hung" in meanwhile["error"]["reason"]
    assert "capture hung for" in status_line(notify, "STATUS=capture hung for", 10)
    notify.flush()
    # the status goes out every 5 s when it changes, and the hang's age changes it: up to
    # the next one, the daemon had its chance to ping many times over
    meanwhile_sent = notify.wait_for("STATUS=capture hung for", 15, is_prefix=True)
    assert "WATCHDOG=1" not in "".join(meanwhile_sent)  # systemd would restart us
    assert daemon.stop() == 1  # the hung read never returned
    log = daemon.log_text()
    assert "did not finish" in log and "Traceback" not in log


def _libfaketime() -> Path:
    for folder in ("/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/aarch64-linux-gnu/faketime",
                   "/usr/lib/faketime"):
        if (Path(folder) / "libfaketime.so.1").exists():
            return Path(folder) / "libfaketime.so.1"
    pytest.skip("libfaketime is not installed (apt install faketime)")


def test_a_wall_clock_jump_of_3_days_expires_and_reorders_nothing(
        tmp_path: Path, mosquitto: Broker, watch: Watch, tiny_model: Path, images: Path,
        daemons: Callable[..., Daemon]) -> None:
    """A Pi (no RTC) spools results with the broker away, restarts, and NTP has moved its
    wall clock 3 days on (libfaketime): the spool's age bound (here 1 day) runs on the
    daemon's monotonic running time, so the backlog is delivered, in order."""
    config = daemon_config(tmp_path, mosquitto, tiny_model, images, interval_s=0.2)
    config["mqtt"]["spool"]["max_age_s"] = 86400.0
    spool = tmp_path / "spool.sqlite"
    mosquitto.stop()
    daemon = daemons(tmp_path, config)
    daemon.start()
    wait.until(lambda: spool_depth(spool) >= 4, 60, "a backlog spooled with the broker away")
    assert daemon.stop() == 0
    backlog = spool_depth(spool)
    mosquitto.start()
    watcher = watch(mosquitto, (RESULT, STATUS))
    config["trigger"].pop("interval_s")
    # libfaketime 0.9.10 breaks Python's sleep when it fakes only CLOCK_REALTIME, so the
    # jump is taken at the restart (monotonic time means nothing across processes anyway);
    # faking both clocks makes timed waits block for the 3 days, hence kill, not stop
    jumped = daemons(tmp_path, config, {"LD_PRELOAD": str(_libfaketime()), "FAKETIME": "+3d"})
    start_online(jumped, watcher)
    got = [json.loads(watcher.next(RESULT, timeout_s=30)[1]) for _ in range(backlog)]
    after = answered(watcher, "after-jump")
    wait.until(lambda: spool_depth(spool) == 0, 30, "every result acknowledged")
    jumped.kill()
    days = [r["timestamp"][:10] for r in [*got, after]]
    assert days == sorted(days) and len(set(days)) == 2  # in capture order across the jump
    assert [r["timestamp"] for r in got] == sorted(r["timestamp"] for r in got)
    assert "stale" not in jumped.log_text() and "Traceback" not in jumped.log_text()
    assert all(r.get("time_synced", "missing") in (True, False, None) for r in [*got, after])


def test_a_runtime_that_computes_wrong_answers_is_a_start_error(
        tmp_path: Path, mosquitto: Broker, model_copy: Path, images: Path,
        daemons: Callable[..., Daemon]) -> None:
    """The sidecar's golden vectors (scripts/golden_vectors.py) are run at start: outputs
    off by more than one quantization step refuse the runtime, naming it and the fix."""
    record = subprocess.run([sys.executable, "scripts/golden_vectors.py", str(model_copy)],
                            cwd=REPO, capture_output=True, text=True)
    assert record.returncode == 0, record.stderr
    config = daemon_config(tmp_path, mosquitto, model_copy, images)
    daemon = daemons(tmp_path, config)

    def check_config() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "edge", "check-config", "--config",
                               str(daemon.config_path)], cwd=REPO, capture_output=True,
                              text=True)

    assert check_config().returncode == 0  # this runtime reproduces what it recorded
    sidecar = model_copy.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    good = meta["golden"]["vectors"][0]["output"]
    meta["golden"]["vectors"][0]["output"] = [v + 3 if v < 100 else v - 3 for v in good]
    sidecar.write_text(json.dumps(meta))  # what a broken XNNPACK/CPU would look like
    checked = check_config()
    assert checked.returncode == 1
    for words in ("computes wrong answers", "3 quantization steps off", "ai-edge-litert",
                  "pip install", "classifier.is_xnnpack_enabled = false"):
        assert words in checked.stdout + checked.stderr
    daemon.start()
    assert daemon.proc is not None and daemon.proc.wait(60) == 1
    assert "computes wrong answers" in daemon.log_text()
    meta["golden"]["model_sha256"] = "0" * 64  # recorded for another model: skipped
    sidecar.write_text(json.dumps(meta))
    assert check_config().returncode == 0
