"""`OpenCvSource`: frames from a USB webcam, /dev/videoN, a stream URL or a video file."""

from __future__ import annotations

import logging
import time
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import cv2
import numpy as np

from edge.errors import SourceError, SourceExhausted
from edge.ports import Frame
from edge.sources.base import SourceBase
from edge.sources.config import OpenCvConfig
from edge.timed import TimedRunner

log = logging.getLogger(__name__)

_CAMERA_HINT = ("check the cable and `v4l2-ctl --list-devices`, that no other program holds "
                "the camera (`fuser {dev}`), and that this user is in the `video` group")


def check_device(cfg: OpenCvConfig) -> None:
    """SourceError if source.device names a device node or a video file that does not exist
    (what the constructor checks before it opens anything)."""
    target, name = _target(cfg.device)
    path = f"/dev/video{target}" if isinstance(target, int) else target
    is_device = isinstance(target, int) or path.startswith("/dev/")
    if (is_device or _is_file(target)) and not Path(path).exists():
        what = _CAMERA_HINT.format(dev=path) if is_device else "check source.device"
        raise SourceError(f"{name}: not found; {what}")


def _is_file(target: int | str) -> bool:
    return isinstance(target, str) and "://" not in target and not target.startswith("/dev/")


def _target(device: int | str) -> tuple[int | str, str]:
    """What to hand to VideoCapture and a name for messages."""
    if isinstance(device, int) or device.isdigit():
        index = int(device)
        return index, f"camera {index} (/dev/video{index})"
    return device, device


class OpenCvSource(SourceBase):
    """Reads frames with `cv2.VideoCapture`: a camera index or /dev/videoN, a stream URL
    (rtsp://, http://) or a video file.

    Opening checks the device exists and reads one frame, so a missing or busy camera fails
    at start-up with a SourceError naming it. Each `read()` waits at most `timeout_s` (the
    read runs on one helper thread, since V4L2 reads can block for ever); after a timeout the
    source is unusable and the app should reopen it. Camera buffering is set to one frame so
    a trigger gets a fresh picture. A video file ends with `SourceExhausted` unless
    `is_looping`. Called from the worker thread; the app closes it, which waits at most
    `timeout_s` for a read in progress and releases the device only once no read holds it.
    """

    def __init__(self, cfg: OpenCvConfig) -> None:
        self._cfg = cfg
        self._target, self.name = _target(cfg.device)
        self._is_file = _is_file(self._target)
        check_device(cfg)
        self._capture = self._open()
        self._reader = TimedRunner("opencv-read")
        self._first: np.ndarray | None = None
        if not self._is_file:
            try:
                self._first = self._read_image()  # a busy camera opens but fails here
            except SourceError:
                self.close()
                raise

    def _open(self) -> cv2.VideoCapture:
        timeout_ms = int(self._cfg.timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms,
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        capture = cv2.VideoCapture(self._target, cv2.CAP_ANY, params)
        if not capture.isOpened():
            capture.release()
            hint = "check the file is a video OpenCV can decode" if self._is_file else \
                _CAMERA_HINT.format(dev=self.name)
            raise SourceError(f"{self.name}: could not open; {hint}")
        if not self._is_file:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self._cfg.width_px)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self._cfg.height_px)
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # V4L2 queues 4 frames: keep them fresh
        return capture

    def read(self) -> Frame:
        if self._first is not None:
            image, self._first = self._first, None
        else:
            image = self._read_image()
        return Frame(image=image, source=self.name, captured_at=time.time())

    def _read_image(self) -> np.ndarray:
        ok, image = self._read_once()
        if not ok and self._is_file and self._cfg.is_looping:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._read_once()
        if ok and image is not None:
            return image
        if self._is_file:
            raise SourceExhausted(f"{self.name}: end of video (set source.is_looping = true "
                                  "to replay it)")
        raise SourceError(f"{self.name}: stopped delivering frames; "
                          + _CAMERA_HINT.format(dev=self.name))

    def _read_once(self) -> tuple[bool, np.ndarray | None]:
        if self._reader.busy_for_s() is not None:
            raise SourceError(f"{self.name}: an earlier read is still stuck; reopen the camera")
        pending = self._reader.submit(self._capture.read)
        try:
            return pending.result(timeout=self._cfg.timeout_s)
        except FutureTimeout as e:
            raise SourceError(f"{self.name}: no frame within {self._cfg.timeout_s} s; "
                              + _CAMERA_HINT.format(dev=self.name)) from e

    def _close(self) -> None:
        if self._reader.stop(self._cfg.timeout_s):
            self._capture.release()
        else:  # releasing under a read blocked in the driver could crash the process
            log.warning("%s: a read is still stuck after %g s; closing without releasing the "
                        "device", self.name, self._cfg.timeout_s)
