"""Shared fixtures. Role-specific fixtures live in tests/fixtures/*.py, one file per owner."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.data import DATA_HELP, default_fer2013_path

REPO = Path(__file__).resolve().parent.parent

pytest_plugins = ["pytester", "tests.fixtures.models", "tests.fixtures.broker",
                  "tests.support.no_tensorflow"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fer2013_path() -> Path:
    """The real FER2013 .npz; tests that need it skip with the reason when it is absent."""
    path = default_fer2013_path()
    if not path.exists():
        pytest.skip(f"FER2013 not found at {path}. {DATA_HELP}")
    return path
