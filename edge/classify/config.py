"""The classifier settings: no LiteRT import, so `edge.config` composes them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from edge.config_base import StrictConfig


class ClassifierConfig(StrictConfig):
    kind: Literal["tflite"] = "tflite"
    model_path: Path | None = Field(
        None,
        description="int8 .tflite with its .json sidecar beside it; default: the shipped model")
    tta: Literal["none", "flip", "crops"] | None = Field(
        None, description="test-time averaging: none (1 invoke), flip (+ mirror, 2), crops "
        "(+ 3 px shifts of both, 10), for triggered captures (button, MQTT, interval); "
        "default: the model sidecar's averaging.default")
    continuous_tta: Literal["none", "flip", "crops"] | None = Field(
        None, description="test-time averaging in continuous mode, where each frame's cost "
        "repeats; default: the model sidecar's averaging.continuous")
    is_flip_averaged: bool = Field(
        True, description="false turns averaging off when tta is not set (older key; "
        "prefer tta)")
    num_threads: int = Field(1, ge=1, le=8, description="LiteRT interpreter threads")
    is_xnnpack_enabled: bool = Field(
        True, description="run the model with LiteRT's XNNPACK delegate (fast); false uses "
        "the built-in kernels, for a runtime whose XNNPACK fails the model's golden vectors")
