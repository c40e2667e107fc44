"""dropping_banners: LiteRT's banner on fd 2 is dropped, everything else still arrives."""

from __future__ import annotations

import os

import pytest

from edge.native_stderr import LITERT_BANNERS, dropping_banners


def test_the_banner_is_dropped_and_other_native_lines_kept(
        capfd: pytest.CaptureFixture[str]) -> None:
    with dropping_banners():
        os.write(2, f"{LITERT_BANNERS[0]}\nERROR: a real problem\n".encode())
    assert capfd.readouterr().err == "ERROR: a real problem\n"


def test_stderr_is_restored_even_when_the_block_raises(
        capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), dropping_banners():
        os.write(2, b"said before failing\n")
        raise RuntimeError("load failed")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "said before failing\nafter\n"
