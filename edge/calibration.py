"""Calibration: the model's averaged scores -> the scores the daemon publishes.

Two corrections, both fitted by the trainer on PublicTest and stated in the sidecar:
a per-emotion bias added to the log-scores (logit adjustment: it takes back the crowd's
preference for `neutral` and `happy` that training on the FER+ votes teaches, so every
emotion is found), then a temperature that makes a confidence of 0.8 right about 8 times
in 10. The bias comes first, so the temperature never changes which emotion wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# The int8 softmax rounds small scores to 0; a floor keeps their log finite.
SCORE_FLOOR = 1e-4


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0
    log_bias: tuple[float, ...] = ()  # one per label; empty: no bias

    @property
    def is_identity(self) -> bool:
        return self.temperature == 1.0 and not any(self.log_bias)

    def apply(self, scores: np.ndarray) -> np.ndarray:
        """Scores (..., labels) summing to 1 -> calibrated scores summing to 1."""
        if self.is_identity:
            return scores
        logits = np.log(np.clip(scores, SCORE_FLOOR, None))
        if self.log_bias:
            logits = logits + np.asarray(self.log_bias, dtype=np.float32)
        logits = logits / self.temperature
        exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
        out: np.ndarray = (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)
        return out


def calibration_of(block: object, labels: Sequence[str]) -> Calibration:
    """The sidecar's `calibration` block ({"temperature": T, "log_bias": {label: b}});
    absent in older sidecars, which means none. ValueError names what is wrong."""
    if block is None:
        return Calibration()
    if not isinstance(block, dict):
        raise ValueError(f"'calibration' must be an object, got {block!r}")
    temperature = float(block.get("temperature", 1.0))
    if not 0.05 <= temperature <= 20:
        raise ValueError(f"'calibration.temperature' = {temperature} is outside 0.05..20")
    bias = block.get("log_bias") or {}
    if not isinstance(bias, dict) or not set(bias) <= set(labels):
        raise ValueError(f"'calibration.log_bias' must map labels {list(labels)} to numbers, "
                         f"got {bias!r}")
    values = tuple(float(bias.get(label, 0.0)) for label in labels)
    return Calibration(temperature=temperature, log_bias=values if any(values) else ())
