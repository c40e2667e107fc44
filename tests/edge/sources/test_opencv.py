"""OpenCvSource on a real MJPG clip written with cv2.VideoWriter, and on missing devices."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edge.errors import SourceError, SourceExhausted
from edge.sources.config import OpenCvConfig
from edge.sources.opencv import OpenCvSource


def test_video_file_frames_arrive_in_order_then_end(write_video: Callable[[int], Path]) -> None:
    source = OpenCvSource(OpenCvConfig(device=str(write_video(3))))
    try:
        levels = [float(source.read().image.mean()) for _ in range(3)]
        assert levels == pytest.approx([20, 40, 60], abs=3)  # MJPG is lossy
        with pytest.raises(SourceExhausted, match="end of video"):
            source.read()
    finally:
        source.close()


def test_looping_video_restarts(write_video: Callable[[int], Path]) -> None:
    source = OpenCvSource(OpenCvConfig(device=str(write_video(2)), is_looping=True))
    try:
        levels = [float(source.read().image.mean()) for _ in range(3)]
        assert levels == pytest.approx([20, 40, 20], abs=3)
    finally:
        source.close()


@pytest.mark.parametrize("device", [57, "57", "/dev/video57"])
def test_missing_camera_names_the_device_and_what_to_check(device: int | str) -> None:
    with pytest.raises(SourceError, match=r"/dev/video57.*not found.*v4l2-ctl.*video` group"):
        OpenCvSource(OpenCvConfig(device=device))


def test_missing_video_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"absent\.avi: not found; check source.device"):
        OpenCvSource(OpenCvConfig(device=str(tmp_path / "absent.avi")))


def test_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.avi"
    path.write_text("not a video")
    with pytest.raises(SourceError, match="could not open"):
        OpenCvSource(OpenCvConfig(device=str(path)))


class _StuckCapture:
    """The lowest layer of a camera that stopped answering: `read` blocks until released."""

    def __init__(self) -> None:
        self.release_read = threading.Event()
        self.entered = threading.Event()
        self.is_released = False

    def read(self) -> tuple[bool, np.ndarray | None]:
        self.entered.set()
        self.release_read.wait(10)
        return False, None

    def release(self) -> None:
        self.is_released = True


def test_a_read_that_hangs_times_out(write_video: Callable[[int], Path]) -> None:
    source = OpenCvSource(OpenCvConfig(device=str(write_video(1)), timeout_s=0.2))
    source._capture.release()
    stuck = _StuckCapture()
    source._capture = stuck  # type: ignore[assignment]
    with pytest.raises(SourceError, match=r"no frame within 0\.2 s"):
        source.read()
    with pytest.raises(SourceError, match="still stuck"):
        source.read()
    stuck.release_read.set()
    source.close()
    assert stuck.is_released


def stuck_source(write_video: Callable[[int], Path],
                 timeout_s: float) -> tuple[OpenCvSource, _StuckCapture, threading.Thread]:
    """A source whose read is stuck in the driver, on the worker thread returned."""
    source = OpenCvSource(OpenCvConfig(device=str(write_video(1)), timeout_s=timeout_s))
    source._capture.release()
    stuck = _StuckCapture()
    source._capture = stuck  # type: ignore[assignment]

    def read() -> None:
        with pytest.raises(SourceError):
            source.read()

    worker = threading.Thread(target=read)
    worker.start()
    assert stuck.entered.wait(5)
    return source, stuck, worker


def test_close_waits_for_the_read_in_progress_then_releases_the_device(
        write_video: Callable[[int], Path]) -> None:
    source, stuck, worker = stuck_source(write_video, timeout_s=10)
    threading.Timer(0.1, stuck.release_read.set).start()  # the driver returns during close
    source.close()
    assert source.closed and stuck.is_released
    worker.join(5)


def test_close_leaves_a_device_that_is_still_stuck_after_the_timeout(
        write_video: Callable[[int], Path]) -> None:
    source, stuck, worker = stuck_source(write_video, timeout_s=0.2)
    source.close()  # returns after timeout_s: releasing under the read could crash
    assert source.closed and not stuck.is_released
    stuck.release_read.set()
    worker.join(5)
