"""The classifier settings: no LiteRT import, so `edge.config` composes them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from edge.config_base import StrictConfig

# the averagings of `edge.model_contract.Averaging`, spelled again so no numpy loads here
Averaging = Literal["none", "flip", "crops"]


class ClassifierConfig(StrictConfig):
    kind: Literal["tflite"] = "tflite"
    model_path: Path | None = Field(
        None,
        description="int8 .tflite with its .json sidecar beside it; default: the shipped model")
    averaging: Averaging | None = Field(
        None, description="test-time averaging of triggered captures (button, MQTT, interval): "
        "none (1 invoke), flip (+ mirror, 2), crops (+ 3 px shifts of both, 10); default: the "
        "model sidecar's averaging.default (continuous mode has its own: "
        "trigger.continuous.averaging)")
    num_threads: int = Field(1, ge=1, le=8, description="LiteRT interpreter threads")
    is_xnnpack_enabled: bool = Field(
        True, description="run the model with LiteRT's XNNPACK delegate (fast); false uses "
        "the built-in kernels, for a runtime whose XNNPACK fails the model's golden vectors")
