"""Shared fixtures. Role-specific fixtures live in tests/fixtures/*.py, one file per owner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FER = REPO.parent / "shared" / "data" / "fer2013.npz"

pytest_plugins = ["tests.fixtures.models", "tests.fixtures.broker"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fer2013_path() -> Path:
    """The real FER2013 .npz; tests that need it skip with the reason when it is absent."""
    path = Path(os.environ.get("EMOEDGE_FER2013", DEFAULT_FER))
    if not path.exists():
        pytest.skip(f"FER2013 not found at {path} (set EMOEDGE_FER2013); CI always has it")
    return path
