"""The fast lane's guard stops a run that imports TensorFlow, at collection or in a test,
and says which; without `--forbid-tensorflow` the same tests pass. The stand-in module is
named `tensorflow` (the guard goes by the name), so these runs cost no real import."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTS = """
def test_before():
    pass

def test_imports():
    import tensorflow

def test_after():
    pass
"""


@pytest.fixture
def lane(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makepyfile(tensorflow="")
    return pytester


def run(lane: pytest.Pytester, *args: str) -> pytest.RunResult:
    return lane.runpytest_subprocess("-p", "tests.support.no_tensorflow", "-p",
                                     "no:cacheprovider", *args)


def test_a_test_that_imports_tensorflow_stops_the_run_naming_itself(
        lane: pytest.Pytester) -> None:
    lane.makepyfile(test_lane=TESTS)
    result = run(lane, "--forbid-tensorflow", "-v")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*test_lane.py::test_imports imported TensorFlow; the fast*"])
    assert "test_after" not in result.stdout.str()
    assert run(lane).ret == 0  # the same tests, outside the lane


def test_a_test_module_that_imports_tensorflow_stops_the_collection(
        lane: pytest.Pytester) -> None:
    lane.makepyfile(test_lane="import tensorflow\n" + TESTS)
    result = run(lane, "--forbid-tensorflow")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*collecting the tests imported TensorFlow*"])
