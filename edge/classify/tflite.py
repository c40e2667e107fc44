"""`TfliteEmotionClassifier`: one face crop -> scores per label, with LiteRT."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from edge.classify import golden
from edge.classify.averaging import views
from edge.classify.config import ClassifierConfig
from edge.errors import ModelError
from edge.lifetime import Resource
from edge.model_contract import ModelContract, check_interpreter, load_contract, resolve_model_path
from edge.native_stderr import dropping_banners
from edge.ports import Emotion, FaceBox, Frame

log = logging.getLogger(__name__)

_INTERPOLATION = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST}


def _interpreter_class() -> Any:
    """LiteRT first, the old tflite_runtime second; never TensorFlow, which the Pi has not."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError as e:
            raise ModelError("no TFLite runtime installed: pip install ai-edge-litert") from e
        log.warning("using tflite_runtime: install ai-edge-litert, it is maintained and faster")
    return Interpreter


class TfliteEmotionClassifier(Resource):
    """Classifies one face of a frame with an int8 (or float) TFLite model and its sidecar.

    Everything about the model (labels, input size and dtype, crop margin, resize method) comes
    from the sidecar JSON; quantization parameters come from the interpreter itself. One
    interpreter is created in the constructor and used only from the worker thread, which
    calls `classify` (about 1.4 ms per invoke on one core). The scores are the mean over the
    views of an averaging (`none`, `flip`, `crops`: 1, 2 or 10 invokes), then calibrated as
    the sidecar says for that averaging. Its own `averaging` (`classifier.averaging`, else the
    sidecar's default) serves every capture that does not name another; continuous mode
    names its own (`edge.continuous.mode.frame_averaging`). The app closes it, which drops
    the interpreter (LiteRT frees its memory with the object).
    """

    def __init__(self, cfg: ClassifierConfig, *, is_golden_checked: bool = True) -> None:
        self.contract: ModelContract = load_contract(resolve_model_path(cfg.model_path))
        self.labels: tuple[str, ...] = self.contract.labels
        self.model_name: str = self.contract.display_name
        self.averaging: str = resolve_averaging(cfg, self.contract)
        self.averagings: Mapping[str, str] = {
            "default": self.contract.averaging, "continuous": self.contract.continuous_averaging}
        self._is_golden_checked = is_golden_checked  # off only to record them anew
        self._interpreter = self._load(cfg.num_threads, cfg.is_xnnpack_enabled)
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        height, width = self.contract.input_shape[1:3]
        self._size = (int(width), int(height))

    def _load(self, num_threads: int, is_xnnpack_enabled: bool) -> Any:
        path = self.contract.path
        cls = _interpreter_class()
        options: dict[str, Any] = {}
        if not is_xnnpack_enabled:  # the enum sits beside each runtime's Interpreter
            resolver = importlib.import_module(cls.__module__).OpResolverType
            options["experimental_op_resolver_type"] = (
                resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        try:
            with dropping_banners():  # LiteRT's XNNPACK line on fd 2, in every command
                interpreter = cls(model_path=str(path), num_threads=num_threads, **options)
                interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ModelError(f"{path}: not a loadable TFLite model ({e}); re-export it or "
                             "check classifier.model_path") from e
        check_interpreter(self.contract, interpreter.get_input_details(),
                          interpreter.get_output_details())
        self.runtime = golden.runtime_name(cls) + ("" if is_xnnpack_enabled else " (no XNNPACK)")
        if self._is_golden_checked:
            golden.check(interpreter, self.contract.golden, self.contract.sha256, path,
                         self.runtime)
        return interpreter

    @property
    def interpreter(self) -> Any:
        """The LiteRT interpreter (scripts/golden_vectors.py records through it)."""
        return self._interpreter

    def classify(self, frame: Frame, box: FaceBox, *, averaging: str | None = None) -> Emotion:
        """Scores for the face at `box` (frame pixels), averaged over the views of
        `averaging` (None: `self.averaging`); the crop is clipped to the frame."""
        face = self.preprocess(frame.image, box)
        averaging = averaging or self.averaging
        scores = self.contract.calibration(averaging).apply(np.mean(
            [self._invoke(view[0]) for view in views(face[np.newaxis], averaging)], axis=0))
        best = int(np.argmax(scores))
        named: Mapping[str, float] = {
            label: float(s) for label, s in zip(self.labels, scores, strict=True)}
        return Emotion(label=self.labels[best], confidence=float(scores[best]), scores=named)

    def preprocess(self, image: np.ndarray, box: FaceBox) -> np.ndarray:
        """Crop the detector's face region (`box.crop_box()`) with the sidecar's margin,
        convert colour, resize: (h, w, channels) uint8."""
        crop = _crop(image, box.crop_box(), self.contract.face_margin)
        if self.contract.is_grayscale and crop.ndim == 3:
            crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        elif not self.contract.is_grayscale:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB if crop.ndim == 2 else cv2.COLOR_BGR2RGB)
        face = cv2.resize(crop, self._size, interpolation=_INTERPOLATION[self.contract.resize])
        return face.reshape(self._size[1], self._size[0], -1)

    def input_tensor(self, face: np.ndarray) -> np.ndarray:
        """A preprocessed face as the model's input tensor (no batch axis)."""
        scale, zero_point = self._input["quantization"]
        return quantize(face, np.dtype(self._input["dtype"]), scale, zero_point,
                        self.contract.pixel_range)

    def _invoke(self, face: np.ndarray) -> np.ndarray:
        tensor = self.input_tensor(face)
        self._interpreter.set_tensor(self._input["index"], tensor[np.newaxis])
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._output["index"])[0]
        return probabilities(raw, *self._output["quantization"])

    def _close(self) -> None:
        self._interpreter = None


def resolve_averaging(cfg: ClassifierConfig, contract: ModelContract) -> str:
    """`classifier.averaging` if set, else the averaging the model's accuracy was measured
    with."""
    return cfg.averaging or contract.averaging


def _crop(image: np.ndarray, box: FaceBox, margin: float) -> np.ndarray:
    height, width = image.shape[:2]
    pad_x, pad_y = round(box.w * margin), round(box.h * margin)
    x0, y0 = max(0, box.x - pad_x), max(0, box.y - pad_y)
    x1, y1 = min(width, box.x + box.w + pad_x), min(height, box.y + box.h + pad_y)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"face box {box} lies outside the {width}x{height} frame")
    return image[y0:y1, x0:x1]


def quantize(face: np.ndarray, dtype: np.dtype[Any], scale: float, zero_point: int,
             pixel_range: tuple[float, float] = (0.0, 255.0)) -> np.ndarray:
    """Pixels 0..255 -> the model's input tensor. Pixels are first mapped to `pixel_range`;
    a scale of 0 means "not quantized": the values are fed as they are."""
    low, high = pixel_range
    if (low, high) == (0.0, 255.0) and scale == 0 and dtype == face.dtype:
        return np.ascontiguousarray(face)  # raw pixels, the common case: no arithmetic
    real = low + face.astype(np.float32) * ((high - low) / 255.0)
    if scale == 0 or not np.issubdtype(dtype, np.integer):
        return real.astype(dtype)
    info = np.iinfo(dtype)
    quantized: np.ndarray = np.clip(np.round(real / scale) + zero_point, info.min, info.max)
    return quantized.astype(dtype)


def dequantize(raw: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """The output tensor as float32 values; a scale of 0 means "not quantized"."""
    values = raw.astype(np.float32)
    if scale != 0 and np.issubdtype(raw.dtype, np.integer):
        values = (values - np.float32(zero_point)) * np.float32(scale)
    return values


def probabilities(raw: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """The output tensor -> scores that sum to 1 (dequantized; softmax if they are logits)."""
    values = dequantize(raw, scale, zero_point)
    if values.min() < -1e-3 or values.max() > 1.0 + 1e-3:
        exp: np.ndarray = np.exp(values - values.max())
        return exp / float(exp.sum())
    values = np.clip(values, 0.0, None)
    total = float(values.sum())
    return values / total if total > 0 else np.full_like(values, 1.0 / len(values))
