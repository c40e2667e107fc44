"""The clock-sync state read from the kernel with adjtimex."""

from __future__ import annotations

import sys

import pytest

from edge.clock import STA_UNSYNC, SyncState


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="adjtimex is Linux only")
def test_the_kernel_answers_true_or_false_on_linux() -> None:
    assert SyncState().is_synced() in (True, False)


def test_no_adjtimex_means_unknown(caplog: pytest.LogCaptureFixture) -> None:
    state = SyncState()
    state._adjtimex = None
    assert state.is_synced() is None


def test_unsync_is_the_kernel_flag() -> None:
    assert STA_UNSYNC == 0x40  # <linux/timex.h>
