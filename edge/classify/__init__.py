"""Emotion classifiers: one backend per file (`tflite.py`: LiteRT), opened by `open_classifier`.

Registering a backend is its `kind` in `ClassifierConfig` (`edge/classify/config.py`), its
file and its line in `BACKENDS`; the app, every CLI command and the benchmarks open
classifiers through `open_classifier` only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from edge.classify.config import ClassifierConfig
from edge.registry import load

if TYPE_CHECKING:
    from edge.ports import EmotionClassifier

# kind -> its classifier's constructor, imported when opened (LiteRT loads only when asked)
BACKENDS: Mapping[str, str] = {"tflite": "edge.classify.tflite:TfliteEmotionClassifier"}


def open_classifier(cfg: ClassifierConfig) -> EmotionClassifier:
    """Open the classifier `cfg.kind` names; ModelError (saying what to fix) when the model
    cannot load. The caller closes it."""
    backend: Callable[[ClassifierConfig], EmotionClassifier] = load(BACKENDS[cfg.kind])
    return backend(cfg)


__all__ = ["BACKENDS", "open_classifier"]
