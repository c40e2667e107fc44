"""The trainer tests' `tiny_model` is converted here from `tiny_keras_model`, not the
committed copy: their Keras and TFLite models must be the same model, and the converter is
what they test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.models import build_tiny_tflite


@pytest.fixture(scope="session")
def tiny_model(tiny_keras_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the tiny int8 `.tflite` converted in this session; its sidecar is beside it.

    Treat both files as read-only: they are shared by the whole session.
    """
    return build_tiny_tflite(tiny_keras_model, tmp_path_factory.mktemp("tiny_tflite") / "tiny")
