"""The SQLite spool: order, deletion, bounds, persistence across reopen."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from edge.errors import ConfigError
from edge.mqtt.spool import Spool, check_spool_path, spool_path


def test_pending_in_order_and_delete(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite", max_results=100, max_age_s=60)
    seqs = [spool.add("t", f"{i}".encode()) for i in range(5)]
    assert [m.payload for m in spool.pending(0, 10)] == [b"0", b"1", b"2", b"3", b"4"]
    assert [m.seq for m in spool.pending(seqs[2], 10)] == seqs[3:]
    spool.delete(seqs[0])
    assert spool.depth() == 4
    spool.close()


def test_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state" / "spool.sqlite"
    spool = Spool(path, 100, 60)
    spool.add("a/b", b"kept")
    spool.close()
    again = Spool(path, 100, 60)
    assert [(m.topic, m.payload) for m in again.pending(0, 10)] == [("a/b", b"kept")]
    again.close()


def test_count_bound_drops_oldest_and_counts(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path / "s.sqlite", max_results=3, max_age_s=60)
    for i in range(5):
        spool.add("t", bytes([i]))
    assert [m.payload for m in spool.pending(0, 10)] == [b"\2", b"\3", b"\4"]
    assert spool.dropped == 2
    assert "dropped" in caplog.text
    spool.close()


def test_age_bound_drops_stale(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    spool = Spool(path, max_results=10, max_age_s=60)
    spool.add("t", b"old")
    spool.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE results SET clock_s = clock_s - 3600")
    again = Spool(path, max_results=10, max_age_s=60)
    assert again.depth() == 0 and again.dropped == 1
    again.close()


def test_spool_path_order(tmp_path: Path) -> None:
    assert spool_path(tmp_path / "x.sqlite", {"STATE_DIRECTORY": "/s"}) == tmp_path / "x.sqlite"
    assert spool_path(None, {"STATE_DIRECTORY": "/var/lib/e:/other"}) == Path(
        "/var/lib/e/spool.sqlite")
    assert spool_path(None, {}) == Path("spool.sqlite")


def test_unwritable_location_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"mqtt\.spool\.path"):
        Spool(blocker / "spool.sqlite", 10, 60)


def test_the_spool_path_check_names_what_is_wrong_and_creates_nothing(tmp_path: Path) -> None:
    check_spool_path(tmp_path / "new" / "deeper" / "spool.sqlite")  # folders made at open
    with pytest.raises(ConfigError, match="it is a directory"):
        check_spool_path(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match=r"file is not a directory; set mqtt\.spool\.path"):
        check_spool_path(tmp_path / "file" / "spool.sqlite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def stored(path: Path) -> list[bytes]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [bytes(r[0]) for r in db.execute("SELECT payload FROM results ORDER BY seq")]


def test_a_held_result_acknowledged_in_time_never_reaches_the_card(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    spool = Spool(path, 100, 60, write_after_s=3600)
    seq = spool.add("t", b"held", may_hold=True)
    assert [m.payload for m in spool.pending(0, 10)] == [b"held"] and spool.depth() == 1
    assert spool.persist_due() == 0  # not due for an hour
    spool.delete(seq)
    assert spool.depth() == 0 and stored(path) == []
    spool.close()
    assert stored(path) == []


def test_held_and_written_results_keep_one_order(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    spool = Spool(path, 100, 60, write_after_s=3600)
    spool.add("t", b"0", may_hold=True)
    spool.add("t", b"1")  # the broker went away: written at once
    spool.add("t", b"2", may_hold=True)
    assert [m.payload for m in spool.pending(0, 10)] == [b"0", b"1", b"2"]
    assert stored(path) == [b"1"]
    assert spool.persist_due(is_all=True) == 2
    assert stored(path) == [b"0", b"1", b"2"]
    spool.close()


def test_due_results_are_written_and_a_clean_stop_writes_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    now = [0.0]
    spool = Spool(path, 100, 60, clock=lambda: now[0], write_after_s=2)
    spool.add("t", b"old", may_hold=True)
    now[0] = 1.5
    spool.add("t", b"young", may_hold=True)
    assert spool.next_due_s() == pytest.approx(0.5)
    now[0] = 2.0
    assert spool.persist_due() == 1 and stored(path) == [b"old"]
    spool.close()
    assert stored(path) == [b"old", b"young"]
    again = Spool(path, 100, 60)
    assert [m.payload for m in again.pending(0, 10)] == [b"old", b"young"]
    again.close()
