"""The clock-sync state read from the kernel with adjtimex."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from edge.clock import STA_UNSYNC, SyncState


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="adjtimex is Linux only")
def test_the_kernel_answers_true_or_false_on_linux() -> None:
    assert SyncState().is_synced() in (True, False)


def test_without_adjtimex_timesyncds_flag_answers_else_unknown(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The shipped unit's seccomp filter refuses adjtimex: systemd-timesyncd's folder in
    /run says whether it has set the clock; with no timesyncd the state is unknown."""
    timesync = tmp_path / "timesync"
    state = SyncState(timesyncd_dir=timesync)
    state._adjtimex = None
    with caplog.at_level(logging.INFO, logger="edge.clock"):
        assert state.is_synced() is None
        assert state.is_synced() is None
    assert caplog.text.count("systemd-timesyncd is not running") == 1
    timesync.mkdir()
    assert state.is_synced() is False
    (timesync / "synchronized").touch()
    assert state.is_synced() is True


def test_unsync_is_the_kernel_flag() -> None:
    assert STA_UNSYNC == 0x40  # <linux/timex.h>
