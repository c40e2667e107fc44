"""Emotion classifiers: one backend per file (`tflite.py`: LiteRT), opened by `open_classifier`.

Registering a backend is its `kind` in `ClassifierConfig` and its factory in `_FACTORIES`;
the app, every CLI command and the benchmarks open classifiers through `open_classifier` only.
"""

from __future__ import annotations

from collections.abc import Callable

from edge.config import ClassifierConfig
from edge.ports import EmotionClassifier


def _tflite(cfg: ClassifierConfig) -> EmotionClassifier:
    from edge.classify.tflite import TfliteEmotionClassifier  # LiteRT loads only when asked

    return TfliteEmotionClassifier(cfg)


_FACTORIES: dict[str, Callable[[ClassifierConfig], EmotionClassifier]] = {"tflite": _tflite}


def open_classifier(cfg: ClassifierConfig) -> EmotionClassifier:
    """Open the classifier `cfg.kind` names; ModelError (saying what to fix) when the model
    cannot load. The caller closes it."""
    return _FACTORIES[cfg.kind](cfg)


__all__ = ["open_classifier"]
