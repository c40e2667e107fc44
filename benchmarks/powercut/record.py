"""Recording every write and sync SQLite makes to the spool's files, through an apsw VFS.

`RecordingVfs` inherits the operating system's VFS and only notes, in one ordered log,
each write (file, offset, bytes), truncate, sync and delete before passing it on. The
spool runs on it through `recording_connect`, which gives `Spool` an apsw connection that
answers the few `sqlite3.Connection` calls the spool makes. The log is what a disk would
have been asked to do; `replay.py` rebuilds the files as a power cut would leave them.

The shared-memory index (`-shm`) is not recorded: apsw hands it to the OS VFS, and SQLite
rebuilds it from the WAL when the first connection after a reboot opens the file.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import apsw

_names = itertools.count()


@dataclass(frozen=True)
class Event:
    """One step in the log. `kind`: write, truncate, sync, delete (of `file`, a base
    name), or a mark the workload adds (made, sent, acked, persisted) with `info`."""

    kind: str
    file: str = ""
    offset: int = 0
    data: bytes = b""
    info: tuple[Any, ...] = ()
    t: float = field(default_factory=time.monotonic)


class Recorder:
    """The ordered log; any thread appends (a lock keeps one order)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def add(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def mark(self, kind: str, *info: Any) -> None:
        self.add(Event(kind, info=info))


class _RecordingFile(apsw.VFSFile):
    def __init__(self, recorder: Recorder, name: apsw.URIFilename | str | None,
                 flags: list[int]) -> None:
        self._recorder = recorder
        text = name.filename() if isinstance(name, apsw.URIFilename) else (name or "")
        self._file = os.path.basename(text)
        super().__init__("", name, flags)

    def xWrite(self, data: bytes, offset: int) -> None:
        self._recorder.add(Event("write", self._file, offset, bytes(data)))
        super().xWrite(data, offset)

    def xTruncate(self, newsize: int) -> None:
        self._recorder.add(Event("truncate", self._file, newsize))
        super().xTruncate(newsize)

    def xSync(self, flags: int) -> None:
        super().xSync(flags)
        self._recorder.add(Event("sync", self._file))  # durable once the OS returned


class RecordingVfs(apsw.VFS):
    """An apsw VFS over the OS one that logs to `recorder`; `unregister()` when done."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.vfs_name = f"powercut-{os.getpid()}-{next(_names)}"
        super().__init__(self.vfs_name, "")

    def xOpen(self, name: apsw.URIFilename | str | None,
              flags: list[int]) -> apsw.VFSFile:
        return _RecordingFile(self.recorder, name, flags)

    def xDelete(self, filename: str, syncdir: bool) -> None:
        super().xDelete(filename, syncdir)
        self.recorder.add(Event("delete", os.path.basename(filename)))


class _Cursor:
    """The part of `sqlite3.Cursor` the spool reads."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int, lastrowid: int) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)


class _ApswConnection:
    """The part of `sqlite3.Connection` (isolation_level=None) the spool calls, on apsw."""

    def __init__(self, path: Path, vfs_name: str, synchronous: str | None) -> None:
        self._db = apsw.Connection(str(path), vfs=vfs_name)
        self._db.setbusytimeout(5000)
        self._synchronous = synchronous

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        if self._synchronous and sql.upper().startswith("PRAGMA SYNCHRONOUS"):
            sql = f"PRAGMA synchronous={self._synchronous}"
        try:
            rows = [tuple(r) for r in self._db.execute(sql, params)]
        except apsw.Error as e:
            raise sqlite3.OperationalError(str(e)) from e
        return _Cursor(rows, self._db.changes(), self._db.last_insert_rowid())

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> _Cursor:
        try:
            self._db.executemany(sql, rows)
        except apsw.Error as e:
            raise sqlite3.OperationalError(str(e)) from e
        return _Cursor([], self._db.changes(), self._db.last_insert_rowid())

    def executescript(self, script: str) -> _Cursor:
        return self.execute(script)

    def close(self) -> None:
        self._db.close()


def recording_connect(vfs: RecordingVfs, synchronous: str | None = None,
                      ) -> Callable[[Path], sqlite3.Connection]:
    """A `Spool(connect=...)` that opens the spool through `vfs`; `synchronous` replaces the
    spool's own setting (the harness's baseline: NORMAL, as before issue 33)."""
    return lambda path: cast(sqlite3.Connection,
                             _ApswConnection(path, vfs.vfs_name, synchronous))
