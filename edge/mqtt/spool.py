"""A persistent, bounded, ordered store of results waiting for the broker's acknowledgement.

Every result goes through the spool: it is added before it is published and deleted only
when the broker sends PUBACK, so a result made while the broker is away, or while the daemon
restarts, is published later, in order. The bound (count and age) keeps the SQLite file
small on an SD card; what is dropped at the bound is counted and logged.

Ages are measured on the spool's own clock: the monotonic time the daemon has run, kept in
the file. A Pi has no real-time clock and NTP moves its wall clock by days after boot, so
wall time would expire a backlog that is minutes old (time powered off does not count).

To spare the SD card, a result the broker acknowledges within `write_after_s` never reaches
it: `add(..., may_hold=True)` keeps it in memory, and `persist_due` (the flush thread) writes
the ones still unacknowledged after `write_after_s`, or all of them once the broker is away,
in one transaction. Every write is fsynced (`synchronous=FULL`): writes are rare now, and
the README's power-cut promise (at most the unacknowledged results of the last
`write_after_s` seconds) needs each one on the card when it returns.

A full or read-only SD card is a runtime fault, not a configuration error: `add` raises
`SpoolUnwritable` naming it (the publisher then sends straight to the broker), and the
spool retries on every call, so spooling resumes by itself when space returns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edge.errors import ConfigError, EdgeError
from edge.mqtt.disk import disk_fault

log = logging.getLogger(__name__)

_SCHEMA = """CREATE TABLE IF NOT EXISTS results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    created_s REAL NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    clock_s REAL);
CREATE TABLE IF NOT EXISTS clock (id INTEGER PRIMARY KEY CHECK (id = 0), elapsed_s REAL);
INSERT OR IGNORE INTO clock VALUES (0, 0.0)"""
# created_s: wall time, for people; clock_s: the spool clock, for the age bound.


class SpoolUnwritable(EdgeError):
    """The spool's filesystem refuses writes; `reason` is "disk full", "read-only", "I/O
    error" or SQLite's message."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write the result spool {path}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Spooled:
    """One stored message: its order number, topic and payload bytes."""

    seq: int
    topic: str
    payload: bytes


@dataclass(frozen=True)
class _Held:
    """A result kept in memory until it is acknowledged or due to be written."""

    seq: int
    topic: str
    payload: bytes
    created_s: float  # wall time
    clock_s: float  # the spool clock
    held_at: float = field(compare=False)  # monotonic, for write_after_s


Connect = Callable[[Path], sqlite3.Connection]


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, check_same_thread=False, isolation_level=None)


def spool_path(configured: Path | None, environ: Mapping[str, str]) -> Path:
    """The configured path, else `$STATE_DIRECTORY/spool.sqlite`, else ./spool.sqlite."""
    if configured is not None:
        return configured
    state = environ.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(state or ".") / "spool.sqlite"


def check_spool_path(path: Path) -> None:
    """ConfigError unless the spool at `path` can be opened for writing or created there.

    SQLite's WAL writes files beside the spool, so its folder (or the nearest existing
    folder above, where the missing ones will be made) must be writable too."""
    folder = next(p for p in path.parents if p.exists())
    if path.is_dir():
        problem = "it is a directory"
    elif not folder.is_dir():
        problem = f"{folder} is not a directory"
    elif not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        if disk_fault(folder) == "read-only":
            return  # a card gone read-only is a runtime fault: the daemon runs without spool
        problem = f"{path if path.exists() else folder} is not writable by this user"
    else:
        return
    raise ConfigError(f"cannot open the result spool {path}: {problem}; set mqtt.spool.path "
                      "to a writable file or run with StateDirectory=")


class Spool:
    """SQLite queue in seq order. Called from the worker (`add`) and the publisher's flush
    thread (`pending`, `delete`); a lock serialises them. The publisher closes it.
    `fault` names what the filesystem refused last ("disk full", ...), None while writes
    work; while it is set every call first tries to reopen the file. `write_after_s` > 0
    lets `add` hold results in memory (see the module's docstring); `connect` opens the
    SQLite connection (the power-cut harness passes one that records every write)."""

    def __init__(self, path: Path, max_results: int, max_age_s: float,
                 clock: Callable[[], float] = time.monotonic, *, write_after_s: float = 0.0,
                 connect: Connect = _connect) -> None:
        self.path = path
        self.max_results = max_results
        self.max_age_s = max_age_s
        self.write_after_s = write_after_s
        self._open_db = connect
        self._held: dict[int, _Held] = {}  # seq -> result, in seq order
        self._next_seq = 1
        self.dropped = 0
        self.fault: str | None = None
        self._clock = clock
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._elapsed_at_start: float | None = None  # the spool clock when first opened
        self._started = clock()
        self._depth = 0  # last known, for when the file cannot be read
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                self._connect_locked()
        except (OSError, sqlite3.Error) as e:
            self._refused(e, "open")  # ConfigError unless the filesystem is at fault
            return
        try:
            self._trim()
        except SpoolUnwritable as e:
            log.error("%s: results go straight to the broker while it is connected", e)

    def add(self, topic: str, payload: bytes, *, may_hold: bool = False) -> int:
        """Store one message; returns its seq. With `may_hold` (the broker is connected) and
        `write_after_s` > 0 it stays in memory until acknowledged or due; otherwise it is on
        the card when this returns, and the oldest beyond the bounds are dropped.
        SpoolUnwritable when the filesystem refuses (nothing is stored then)."""
        with self._lock:
            if may_hold and self.write_after_s > 0 and self.fault is None:
                seq = self._take_seq_locked()
                self._held[seq] = _Held(seq, topic, payload, time.time(), self._now(),
                                        self._clock())
                return seq
            db = self._usable_locked()
            seq = self._take_seq_locked()
            dropped = self._insert_locked(
                db, [_Held(seq, topic, payload, time.time(), self._now(), 0.0)])
        self._count_dropped(*dropped)
        return seq

    def persist_due(self, *, is_all: bool = False) -> int:
        """Write the held results older than `write_after_s` (all with `is_all`) in one
        transaction; returns how many. SpoolUnwritable if refused: they stay held."""
        with self._lock:
            due_at = self._clock() - self.write_after_s
            rows = [h for h in self._held.values() if is_all or h.held_at <= due_at]
            if not rows:
                return 0
            dropped = self._insert_locked(self._usable_locked(), rows)
            for row in rows:
                del self._held[row.seq]
        self._count_dropped(*dropped)
        return len(rows)

    def next_due_s(self) -> float:
        """Seconds until the oldest held result is due to be written; inf when none is."""
        with self._lock:
            oldest = next(iter(self._held.values()), None)
        if oldest is None:
            return float("inf")
        return max(0.0, oldest.held_at + self.write_after_s - self._clock())

    def _take_seq_locked(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def _insert_locked(self, db: sqlite3.Connection, rows: list[_Held]) -> tuple[int, int]:
        try:
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO results (seq, created_s, clock_s, topic, payload) "
                "VALUES (?, ?, ?, ?, ?)",
                [(r.seq, r.created_s, r.clock_s, r.topic, r.payload) for r in rows])
            dropped = self._trim_locked(db)
            db.execute("COMMIT")
        except sqlite3.Error as e:
            self._rollback_locked(db)
            raise self._unwritable_locked(e) from e
        self._written_locked()
        return dropped

    def pending(self, after_seq: int, limit: int) -> list[Spooled]:
        """Up to `limit` messages with seq > after_seq, oldest first."""
        with self._lock:
            held = [Spooled(h.seq, h.topic, h.payload) for h in self._held.values()
                    if h.seq > after_seq][:limit]
            try:
                db = self._usable_locked()
                rows = db.execute(
                    "SELECT seq, topic, payload FROM results WHERE seq > ? ORDER BY seq LIMIT ?",
                    (after_seq, limit)).fetchall()
            except sqlite3.Error as e:
                if not held:
                    raise self._unwritable_locked(e) from e
                self._unwritable_locked(e)
                rows = []
            except SpoolUnwritable:
                if not held:
                    raise
                rows = []  # what is in memory can still be sent
        stored = [Spooled(int(seq), str(topic), bytes(payload)) for seq, topic, payload in rows]
        return sorted(stored + held, key=lambda m: m.seq)[:limit]

    def delete(self, *seqs: int) -> None:
        """Forget acknowledged messages (one transaction, none when all were held);
        SpoolUnwritable if refused."""
        with self._lock:
            seqs = tuple(s for s in seqs if self._held.pop(s, None) is None)
            if not seqs:
                return
            db = self._usable_locked()
            try:
                db.execute("BEGIN")
                db.executemany("DELETE FROM results WHERE seq = ?", [(s,) for s in seqs])
                db.execute("COMMIT")
            except sqlite3.Error as e:
                self._rollback_locked(db)
                raise self._unwritable_locked(e) from e
            self._written_locked()

    def depth(self) -> int:
        """Messages stored; the last known count while the file cannot be read."""
        with self._lock:
            try:
                db = self._usable_locked()
                self._depth = int(db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
            except (SpoolUnwritable, sqlite3.Error):
                pass
            return self._depth + len(self._held)

    def close(self) -> None:
        """Writes what is held (a clean stop loses nothing), then closes the file."""
        try:
            self.persist_due(is_all=True)
        except SpoolUnwritable as e:
            log.error("%s: %d held result(s) lost at this stop", e, len(self._held))
        with self._lock:
            self._held.clear()
            if self._db is not None:
                # on a read-only card the clock loses the time since the last add
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("UPDATE clock SET elapsed_s = ? WHERE id = 0",
                                     (self._now(),))
                self._db.close()
                self._db = None

    def _now(self) -> float:
        """The spool clock: seconds the daemon has run with this file, monotonic."""
        return (self._elapsed_at_start or 0.0) + self._clock() - self._started

    def _connect_locked(self) -> sqlite3.Connection:
        db = self._open_db(self.path)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on the card when it returns, which the power-cut promise
            # needs; results the broker takes at once never get here, so fsyncs are rare.
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            _add_clock_column(db)
            if self._elapsed_at_start is None:
                # the clock row is written only at a clean stop; a row stored later is newer
                row = db.execute("SELECT MAX(elapsed_s, IFNULL((SELECT MAX(clock_s) FROM "
                                 "results), 0)) FROM clock WHERE id = 0").fetchone()
                self._elapsed_at_start = float(row[0] or 0.0)
                self._started = self._clock()
            top = db.execute("SELECT MAX(IFNULL((SELECT seq FROM sqlite_sequence WHERE name = "
                             "'results'), 0), IFNULL((SELECT MAX(seq) FROM results), 0))"
                             ).fetchone()
            self._next_seq = max(self._next_seq, int(top[0]) + 1)
            # rows of an older spool (wall-clock ages only) start their age now
            db.execute("UPDATE results SET clock_s = ? WHERE clock_s IS NULL", (self._now(),))
        except BaseException:
            db.close()
            raise
        self._db = db
        return db

    def _written_locked(self) -> None:
        if self.fault is not None:
            log.info("result spool %s writable again (%s is over): spooling resumes",
                     self.path, self.fault)
            self.fault = None

    def _usable_locked(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        try:
            return self._connect_locked()
        except (OSError, sqlite3.Error) as e:
            raise self._unwritable_locked(e) from e

    def _refused(self, e: Exception, doing: str) -> None:
        fault = disk_fault(self.path.parent)
        if fault is None:
            raise ConfigError(
                f"cannot {doing} the result spool {self.path}: {e}; set mqtt.spool.path to a "
                "writable file or run with StateDirectory=") from e
        self.fault = fault
        log.error("result spool %s unusable (%s): results go straight to the broker while "
                  "it is connected; spooling resumes by itself when the card is writable",
                  self.path, fault)

    def _unwritable_locked(self, e: Exception) -> SpoolUnwritable:
        """Classify a refused call; the connection is dropped so the next call reopens."""
        fault = disk_fault(self.path.parent) or str(e)
        if self._db is not None:
            self._db.close()
            self._db = None
        self.fault = fault
        return SpoolUnwritable(self.path, fault)

    @staticmethod
    def _rollback_locked(db: sqlite3.Connection) -> None:
        with contextlib.suppress(sqlite3.Error):  # SQLite already rolled back on SQLITE_FULL
            db.execute("ROLLBACK")

    def _trim(self) -> None:
        with self._lock:
            db = self._usable_locked()
            try:
                dropped = self._trim_locked(db)
            except sqlite3.Error as e:
                raise self._unwritable_locked(e) from e
        self._count_dropped(*dropped)

    def _trim_locked(self, db: sqlite3.Connection) -> tuple[int, int]:
        too_old = db.execute(
            "DELETE FROM results WHERE clock_s < ?", (self._now() - self.max_age_s,)
        ).rowcount
        too_many = db.execute(
            "DELETE FROM results WHERE seq <= "
            "(SELECT seq FROM results ORDER BY seq DESC LIMIT 1 OFFSET ?)", (self.max_results,)
        ).rowcount
        return too_old, too_many

    def _count_dropped(self, too_old: int, too_many: int) -> None:
        if too_old or too_many:
            self.dropped += too_old + too_many
            log.warning("spool full or stale: dropped %d result(s) waiting longer than %.0f s "
                        "and %d beyond %d kept (%d dropped since start)", too_old,
                        self.max_age_s, too_many, self.max_results, self.dropped)


def _add_clock_column(db: sqlite3.Connection) -> None:
    """Spools written before the spool clock lack `clock_s`."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(results)")}
    if "clock_s" not in columns:
        db.execute("ALTER TABLE results ADD COLUMN clock_s REAL")
