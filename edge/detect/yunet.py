"""`YunetFaceDetector`: OpenCV's YuNet CNN (`cv2.FaceDetectorYN`): boxes and 5 landmarks.

The model (232 KB ONNX, MIT + Apache-2.0) ships in `edge/assets/yunet/` with a sidecar JSON
holding its sha256, provenance, licences and the oldest OpenCV that runs it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.assets import asset_path
from edge.detect.config import YunetKeys
from edge.errors import ModelError
from edge.lifetime import Resource
from edge.ports import CropRule, FaceBox, Frame

MODEL_ASSET = "yunet/face_detection_yunet_2023mar.onnx"
OPENCV_FIX = "pip install 'opencv-python-headless>=4.8,<5'"
# YuNet's box runs brow to chin, 1.29x taller than wide, and is narrower than a FER2013
# crop: the crop is a square of 1.2 box widths about the box centre (1.19 measured; its
# labels agreed with the classifier's on the original crops more than 1.0-1.4 or shifted
# centres did; the raw box cost 5.6 points). `python -m benchmarks --only crop`, 1,200 faces.
CROP_RULE = CropRule(side_per_width=1.2, center_dy_per_height=0.0)


def opencv_version() -> tuple[int, ...]:
    """`cv2.__version__` as numbers ("4.11.0-dev" -> (4, 11, 0))."""
    return tuple(int(n) for n in re.findall(r"\d+", cv2.__version__)[:3])


def load_sidecar(model: Path) -> dict[str, Any]:
    """The model's sidecar JSON, after checking the model's size and sha256 against it."""
    sidecar = model.with_suffix(".json")
    fix = "reinstall emotion-edge or set detector.model_path to a YuNet .onnx with its sidecar"
    if not model.is_file():
        raise ModelError(f"YuNet model not found: {model}; {fix}")
    try:
        meta: dict[str, Any] = json.loads(sidecar.read_text())
        expected = str(meta["sha256"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelError(f"YuNet sidecar {sidecar} is missing or unreadable ({e}); {fix}") from e
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    if digest != expected:
        raise ModelError(f"YuNet model {model} is damaged: sha256 {digest[:12]}..., its sidecar "
                         f"says {expected[:12]}...; {fix}")
    return meta


def check_opencv(min_version: str) -> None:
    """ModelError naming the fix when this OpenCV cannot run YuNet."""
    wanted = tuple(int(n) for n in min_version.split("."))
    if not hasattr(cv2, "FaceDetectorYN"):
        raise ModelError(f"OpenCV {cv2.__version__} has no cv2.FaceDetectorYN: {OPENCV_FIX}")
    if opencv_version() < wanted:
        raise ModelError(f"OpenCV {cv2.__version__} is too old for YuNet (needs >= "
                         f"{min_version}): {OPENCV_FIX}")


class YunetFaceDetector(Resource):
    """Finds faces with YuNet, in full-frame pixels, each with its 5 landmarks.

    Frames are downscaled to fit `detect_width_px` x `detect_height_px` (never upscaled),
    run through `cv2.FaceDetectorYN`, and boxes and landmarks are mapped back and clipped to
    the frame. The constructor checks OpenCV's version and the model's sha256 and raises
    ModelError saying what to fix. Each box carries `CROP_RULE`, its calibrated mapping to
    the classifier's crop. Worker thread only; `close` drops the network.
    """

    def __init__(self, cfg: YunetKeys) -> None:
        model = cfg.model_path or asset_path(MODEL_ASSET)
        meta = load_sidecar(model)
        check_opencv(str(meta.get("min_opencv", "4.8.0")))
        self._size = (cfg.detect_width_px, cfg.detect_height_px)
        try:
            self._net: Any = cv2.FaceDetectorYN.create(
                str(model), "", self._size, cfg.score_threshold, cfg.nms_threshold, 50)
        except cv2.error as e:
            raise ModelError(f"OpenCV {cv2.__version__} cannot load the YuNet model {model} "
                             f"({e}); {OPENCV_FIX}") from e
        self._cfg = cfg

    def detect(self, frame: Frame) -> list[FaceBox]:
        """Every face found, largest first; [] when there is none."""
        image = frame.image
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        height, width = image.shape[:2]
        scale = min(1.0, self._cfg.detect_width_px / width, self._cfg.detect_height_px / height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if size != (width, height):
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        if size != self._size:
            self._net.setInputSize(size)
            self._size = size
        _, found = self._net.detect(np.ascontiguousarray(image))
        if found is None:
            return []
        factors = np.array([width / size[0], height / size[1]] * 7, np.float32)
        boxes = [_face(row[:14] * factors, width, height) for row in found]
        boxes = [b for b in boxes if b.w >= self._cfg.min_face_px and b.h > 0]
        return sorted(boxes, key=lambda b: b.area, reverse=True)

    def _close(self) -> None:
        self._net = None  # OpenCV frees the network with the object


def _face(row: np.ndarray, width: int, height: int) -> FaceBox:
    x, y, w, h = (float(v) for v in row[:4])
    x0, y0 = max(0, round(x)), max(0, round(y))
    x1, y1 = min(width, round(x + w)), min(height, round(y + h))
    points = tuple((min(width - 1, max(0, round(float(px)))),
                    min(height - 1, max(0, round(float(py)))))
                   for px, py in row[4:14].reshape(5, 2))
    return FaceBox(x0, y0, x1 - x0, y1 - y0, keypoints=points, crop_rule=CROP_RULE)
