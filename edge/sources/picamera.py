"""`PicameraSource`: frames from a Raspberry Pi camera module through picamera2/libcamera."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from edge.errors import SourceError
from edge.ports import Frame
from edge.sources.base import SourceBase
from edge.sources.config import PicameraConfig

_INSTALL_HINT = ("picamera2 is not importable: on Raspberry Pi OS run "
                 "`sudo apt install python3-picamera2` and create the venv with "
                 "`python3 -m venv --system-site-packages` (it cannot be pip-installed)")
_CAMERA_HINT = ("check the ribbon cable, `rpicam-hello --list-cameras`, and that no other "
                "program (another emotion-edge, rpicam-*) holds the camera")


class PicameraSource(SourceBase):
    """Reads BGR frames from a libcamera camera (Camera Module 1-3, HQ, Global Shutter).

    picamera2 is imported in the constructor, so this module imports anywhere; off a Pi the
    constructor raises SourceError with the install steps. The camera runs continuously
    once opened, so `read()` returns the next frame within a frame time; it waits at most
    `timeout_s` (default 5 s). Called from the worker thread; the app closes it, which
    stops and releases the camera so another process can open it.
    """

    def __init__(self, cfg: PicameraConfig, timeout_s: float = 5.0) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError as e:
            raise SourceError(_INSTALL_HINT) from e
        self.name = f"picamera {cfg.camera_num}"
        self._timeout_s = timeout_s
        try:
            self._camera: Any = Picamera2(cfg.camera_num)
        except (IndexError, RuntimeError) as e:
            raise SourceError(f"{self.name}: cannot open ({e}); {_CAMERA_HINT}") from e
        try:
            # libcamera's "RGB888" is laid out B, G, R in memory: what OpenCV expects.
            size = (cfg.width_px, cfg.height_px)
            config = self._camera.create_video_configuration(
                main={"size": size, "format": "RGB888"}, buffer_count=2)
            self._camera.configure(config)
            self._camera.start()
        except (RuntimeError, ValueError) as e:
            self._camera.close()
            raise SourceError(f"{self.name}: cannot start ({e}); {_CAMERA_HINT}") from e

    def read(self) -> Frame:
        try:
            job = self._camera.capture_array("main", wait=False)
            image: np.ndarray = self._camera.wait(job, timeout=self._timeout_s)
        except TimeoutError as e:
            raise SourceError(f"{self.name}: no frame within {self._timeout_s} s; "
                              f"{_CAMERA_HINT}") from e
        except RuntimeError as e:
            raise SourceError(f"{self.name}: capture failed ({e}); {_CAMERA_HINT}") from e
        return Frame(image=image, source=self.name, captured_at=time.time())

    def _close(self) -> None:
        self._camera.stop()
        self._camera.close()
