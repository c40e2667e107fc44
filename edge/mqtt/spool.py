"""A persistent, bounded, ordered store of results waiting for the broker's acknowledgement.

Every result goes through the spool: it is added before it is published and deleted only
when the broker sends PUBACK, so a result made while the broker is away, or while the daemon
restarts, is published later, in order. The bound (count and age) keeps the SQLite file
small on an SD card; what is dropped at the bound is counted and logged.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from edge.errors import ConfigError

log = logging.getLogger(__name__)

_SCHEMA = """CREATE TABLE IF NOT EXISTS results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    created_s REAL NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL)"""


@dataclass(frozen=True)
class Spooled:
    """One stored message: its order number, topic and payload bytes."""

    seq: int
    topic: str
    payload: bytes


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
        problem = f"{path if path.exists() else folder} is not writable by this user"
    else:
        return
    raise ConfigError(f"cannot open the result spool {path}: {problem}; set mqtt.spool.path "
                      "to a writable file or run with StateDirectory=")


class Spool:
    """SQLite queue in seq order. Called from the worker (`add`) and the publisher's flush
    thread (`pending`, `delete`); a lock serialises them. The publisher closes it."""

    def __init__(self, path: Path, max_results: int, max_age_s: float) -> None:
        self.path = path
        self.max_results = max_results
        self.max_age_s = max_age_s
        self.dropped = 0
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a crash or kill -9; only a power cut can lose the last
            # commits. It spares the SD card an fsync per result.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise ConfigError(
                f"cannot open the result spool {path}: {e}; set mqtt.spool.path to a "
                "writable file or run with StateDirectory=") from e
        self._trim()

    def add(self, topic: str, payload: bytes) -> int:
        """Store one message; returns its seq. Drops the oldest beyond the bounds."""
        with self._lock:
            self._db.execute("BEGIN")
            cur = self._db.execute(
                "INSERT INTO results (created_s, topic, payload) VALUES (?, ?, ?)",
                (time.time(), topic, payload))
            dropped = self._trim_locked()
            self._db.execute("COMMIT")
        self._count_dropped(*dropped)
        return int(cur.lastrowid or 0)

    def pending(self, after_seq: int, limit: int) -> list[Spooled]:
        """Up to `limit` messages with seq > after_seq, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload FROM results WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit)).fetchall()
        return [Spooled(int(seq), str(topic), bytes(payload)) for seq, topic, payload in rows]

    def delete(self, *seqs: int) -> None:
        """Forget acknowledged messages (one transaction)."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM results WHERE seq = ?", [(s,) for s in seqs])
            self._db.execute("COMMIT")

    def depth(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _trim(self) -> None:
        with self._lock:
            dropped = self._trim_locked()
        self._count_dropped(*dropped)

    def _trim_locked(self) -> tuple[int, int]:
        too_old = self._db.execute(
            "DELETE FROM results WHERE created_s < ?", (time.time() - self.max_age_s,)
        ).rowcount
        too_many = self._db.execute(
            "DELETE FROM results WHERE seq <= "
            "(SELECT seq FROM results ORDER BY seq DESC LIMIT 1 OFFSET ?)", (self.max_results,)
        ).rowcount
        return too_old, too_many

    def _count_dropped(self, too_old: int, too_many: int) -> None:
        if too_old or too_many:
            self.dropped += too_old + too_many
            log.warning("spool full or stale: dropped %d result(s) older than %.0f s and %d "
                        "beyond %d kept (%d dropped since start)", too_old, self.max_age_s,
                        too_many, self.max_results, self.dropped)
