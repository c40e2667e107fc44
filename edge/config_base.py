"""The base of every config model, kept apart so role packages can declare their own variants
(`edge/detect/haar.py` holds `HaarDetectorConfig`) without importing `edge.config`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictConfig(BaseModel):
    """Unknown keys are errors and settings are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
