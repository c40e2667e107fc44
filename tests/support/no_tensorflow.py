"""A pytest plugin: with `--forbid-tensorflow`, a test (or a test module) that imports
TensorFlow stops the run, naming itself. It guards `make test-fast`, whose promise is a
lane that never pays TensorFlow's import (nor training, nor `fer`, which needs it)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

OPTION = "--forbid-tensorflow"
HINT = ("the fast lane (make test-fast) imports no TensorFlow: mark the test slow, move it "
        "under tests/trainer/, or use the committed tiny model (tests/data/tiny-model.tflite)")


def is_loaded() -> bool:
    return "tensorflow" in sys.modules


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OPTION, action="store_true",
                     help="stop with an error as soon as a test imports TensorFlow")


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.getoption(OPTION) and is_loaded():
        raise pytest.UsageError(f"collecting the tests imported TensorFlow; {HINT}")


@pytest.fixture(autouse=True)
def _forbid_tensorflow(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if request.config.getoption(OPTION) and is_loaded():
        pytest.exit(f"{request.node.nodeid} imported TensorFlow; {HINT}", returncode=1)
