"""`HaarFaceDetector`: OpenCV's frontal-face Haar cascade on a downscaled gray copy."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.detect.config import HaarDetectorConfig
from edge.errors import ModelError
from edge.lifetime import Resource
from edge.ports import FaceBox, Frame

DEFAULT_CASCADE = "haarcascade_frontalface_alt2.xml"


def default_cascade_path() -> Path:
    """OpenCV's bundled cascade; wheels of opencv-python<5 ship it in `cv2.data`."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if folder is None:
        raise ModelError("this OpenCV has no cv2.data.haarcascades (Debian python3-opencv?): "
                         "install opencv-data and set detector.cascade_path = "
                         f"'/usr/share/opencv4/haarcascades/{DEFAULT_CASCADE}'")
    return Path(folder) / DEFAULT_CASCADE


class HaarFaceDetector(Resource):
    """Finds every frontal face in a frame, in full-frame pixels.

    Detection dominates the pipeline's cost, so it runs on a gray copy downscaled to
    `detect_width_px`, with the minimum face size `min_face_px` (full-frame pixels) scaled
    alongside; boxes are mapped back. The downscale never goes so far that `min_face_px`
    falls below the cascade's window (20 px for alt2), so faces of that size stay detectable.
    The cascade is loaded in the constructor (ModelError if missing or empty). Called from
    the worker thread only; the cascade is plain memory, so `close` releases nothing.
    """

    def __init__(self, cfg: HaarDetectorConfig) -> None:
        path = cfg.cascade_path or default_cascade_path()
        if not path.is_file():
            raise ModelError(f"Haar cascade file not found: {path}; set detector.cascade_path "
                             f"to an OpenCV {DEFAULT_CASCADE}")
        try:
            self._cascade = cv2.CascadeClassifier(str(path))
        except (cv2.error, SystemError) as e:  # unparsable XML surfaces as SystemError
            raise ModelError(f"Haar cascade file {path} is not a cascade XML; set "
                             f"detector.cascade_path to an OpenCV {DEFAULT_CASCADE}") from e
        if self._cascade.empty():
            raise ModelError(f"Haar cascade file {path} is empty or not a cascade; set "
                             f"detector.cascade_path to an OpenCV {DEFAULT_CASCADE}")
        self._window_px = min(self._cascade.getOriginalWindowSize()) or 24
        self._cfg = cfg

    def scale_for(self, width_px: int) -> float:
        """The factor a frame `width_px` wide is shrunk by before detection (<= 1)."""
        wanted = self._cfg.detect_width_px / width_px
        keeps_min_face = self._window_px / self._cfg.min_face_px
        return min(1.0, max(wanted, keeps_min_face))

    def detect(self, frame: Frame) -> list[FaceBox]:
        """Every face found, largest first; [] when there is none."""
        height, width = frame.image.shape[:2]
        scale = self.scale_for(width)
        gray = _gray(frame.image)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        min_px = max(self._window_px, round(self._cfg.min_face_px * scale))
        found = self._cascade.detectMultiScale(
            gray, scaleFactor=self._cfg.scale_factor, minNeighbors=self._cfg.min_neighbors,
            minSize=(min_px, min_px))
        if len(found) == 0:  # OpenCV returns an empty tuple, not an empty array
            return []
        boxes = [_map_back(box, scale, width, height) for box in np.asarray(found)]
        return sorted(boxes, key=lambda b: b.area, reverse=True)


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _map_back(box: np.ndarray, scale: float, width: int, height: int) -> FaceBox:
    x, y, w, h = (float(v) / scale for v in box)
    x0, y0 = max(0, round(x)), max(0, round(y))
    return FaceBox(x0, y0, min(width - x0, round(w)), min(height - y0, round(h)))
