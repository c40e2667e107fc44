"""The power-cut harness (`python -m benchmarks.powercut`), its fast subset: 52 cuts of
recorded spool runs against a real mosquitto, each judged on the daemon's own spool, a few
booted all the way to a broker; and proof that it fails the spool as it was before issue 33."""

from __future__ import annotations

from pathlib import Path
from random import Random

import pytest

from benchmarks.powercut.__main__ import BASELINE, SETTINGS, run_cuts
from benchmarks.powercut.record import Event
from benchmarks.powercut.replay import SECTOR, Disk

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_52_power_cuts_leave_a_spool_that_opens_in_order_within_the_promise(
        tmp_path: Path) -> None:
    verdicts = run_cuts(52, 2, seed=7, workdir=tmp_path)
    cuts = [c for found in verdicts.values() for c in found]
    assert len(cuts) == 52
    assert [c for c in cuts if not c.is_within_promise] == []
    assert all(c.problem is None for c in cuts)  # every spool opened, integrity_check ok
    no_hold = verdicts[SETTINGS[1]]
    assert no_hold and all(c.lost == 0 for c in no_hold)  # write_after_s = 0 loses nothing
    assert any(c.spooled for c in cuts) and any(c.acked for c in cuts)
    booted = [c for c in cuts if c.is_booted]  # the daemon's MQTT side started on the cut
    assert booted and all(c.is_sent_as_spooled for c in booted)


def test_the_harness_catches_the_losses_of_the_spool_before_issue_33(tmp_path: Path) -> None:
    """Every result written at once but never synced (synchronous=NORMAL): a cut loses
    results a completed write should have kept, and the harness says so."""
    cuts = run_cuts(26, 1, seed=3, workdir=tmp_path, settings=(BASELINE,))[BASELINE]
    assert any(c.late for c in cuts if c.mode == "drop")
    assert all(c.problem is None for c in cuts)  # lost, yet never corrupt


def test_a_cut_keeps_synced_writes_and_drops_or_tears_the_rest() -> None:
    disk = Disk()
    disk.step(Event("write", "f", 0, b"a" * SECTOR * 2))
    disk.step(Event("sync", "f"))
    disk.step(Event("write", "f", 0, b"b" * SECTOR * 2))
    disk.step(Event("write", "g", 0, b"never synced"))
    assert disk.image(None) == {"f": b"a" * SECTOR * 2}  # drop: what was synced
    torn = [disk.image(Random(seed))["f"] for seed in range(40)]
    sectors = {(t[:SECTOR], t[SECTOR:]) for t in torn}
    assert (b"a" * SECTOR, b"b" * SECTOR) in sectors  # one sector of a write reached the card
    assert sectors <= {(x * SECTOR, y * SECTOR) for x in (b"a", b"b") for y in (b"a", b"b")}
    disk.step(Event("write", "f", 4, b"c" * 12))  # shorter than a sector, mid-file
    disk.step(Event("sync", "f"))
    assert disk.image(None)["f"] == b"bbbb" + b"c" * 12 + b"b" * (SECTOR * 2 - 16)
    disk.step(Event("delete", "f"))
    assert "f" not in disk.image(None)
