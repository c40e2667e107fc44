"""The base of every config model. `edge.config.Settings` composes each role's config module
(`edge/detect/config.py`, `edge/sources/config.py`, ...), so those modules take their base
from here, below both, and never import `edge.config`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictConfig(BaseModel):
    """Unknown keys are errors and settings are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
