"""Fixtures for the deployment tests."""

from __future__ import annotations

from pathlib import Path

import pytest

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "emotion-edge.tflite"


@pytest.fixture(scope="session")
def demo_model(request: pytest.FixtureRequest) -> Path:
    """The shipped model when it exists, else the tiny test model (same contract)."""
    if SHIPPED.is_file() and SHIPPED.with_suffix(".json").is_file():
        return SHIPPED
    return Path(request.getfixturevalue("tiny_model"))
