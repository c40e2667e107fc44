"""Power cuts replayed from a recorded log: the files as the card would hold them, then the
daemon's own spool opened on them and judged.

A cut after event k keeps, per file, every write and truncate followed by a sync of that
file before k, and drops the rest ("drop"), or keeps a random part of the rest, each kept
write torn to a random subset of its 512-byte sectors ("torn": the page cache flushed some
of it, in any order, when the power went). A deleted file is gone at once. The check opens
the spool with `Spool` on the system's SQLite (the daemon's code), runs `PRAGMA
integrity_check`, and compares what it would replay with what the log says happened. Every
`boot_every`-th cut also boots the daemon's MQTT side on it (`boot.py`) and checks that the
broker receives exactly the spooled results, once each, in order.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from random import Random

from edge.mqtt.spool import Spool

from .record import Event
from .workload import SPOOL, Run

SECTOR = 512
SLACK_S = 1.0  # the flush thread's longest sleep between writes of due results


@dataclass
class _File:
    durable: bytearray | None = None  # None: never synced, so gone after a cut
    pending: list[Event] = field(default_factory=list)


def _apply(content: bytearray, event: Event, keep: Random | None = None) -> None:
    if event.kind == "truncate":
        del content[event.offset:]
        return
    end = event.offset + len(event.data)
    if len(content) < end:
        content.extend(bytes(end - len(content)))
    for start in range(0, len(event.data), SECTOR):
        if keep is None or keep.random() < 0.5:
            chunk = event.data[start:start + SECTOR]
            at = event.offset + start
            content[at:at + len(chunk)] = chunk  # same length: the file keeps its size


class Disk:
    """The card as the log has left it so far; `step` takes the next event."""

    def __init__(self) -> None:
        self.files: dict[str, _File] = {}

    def step(self, event: Event) -> None:
        if event.kind in ("write", "truncate"):
            self.files.setdefault(event.file, _File()).pending.append(event)
        elif event.kind == "sync":
            state = self.files.setdefault(event.file, _File())
            content = state.durable if state.durable is not None else bytearray()
            for pending in state.pending:
                _apply(content, pending)
            state.durable, state.pending = content, []
        elif event.kind == "delete":
            self.files.pop(event.file, None)

    def image(self, torn: Random | None) -> dict[str, bytes]:
        """The files after a cut now: synced content only, or (`torn`) plus a random part
        of what was not synced."""
        out = {}
        for name, state in self.files.items():
            content = bytearray(state.durable or b"")
            kept = False
            for event in state.pending if torn is not None else ():
                if torn is not None and torn.random() < 0.5:
                    _apply(content, event, torn)
                    kept = True
            if state.durable is not None or kept:
                out[name] = bytes(content)
        return out


@dataclass(frozen=True)
class Cut:
    """What one cut left. `lost`: results handed to the spool, not acknowledged by the
    broker, and not in the spool after the cut; `ages_s`: how long before the cut each was
    made; `late`: lost ones a completed write of due results should have kept (a bug);
    `duplicates`: acknowledged yet still spooled (sent again: the QoS 1 case)."""

    event: int
    mode: str
    problem: str | None
    made: int
    acked: int
    spooled: int
    lost: int
    ages_s: tuple[float, ...]
    late: int
    duplicates: int
    is_in_order: bool
    is_booted: bool = False  # the daemon's MQTT side started on it and sent the spool
    is_sent_as_spooled: bool = True  # the broker got the spooled results, once, in order

    @property
    def is_within_promise(self) -> bool:
        return (self.problem is None and self.late == 0 and self.is_in_order
                and self.is_sent_as_spooled)


def spooled_ids(folder: Path) -> tuple[str | None, list[str]]:
    """(integrity problem or None, ids the daemon would replay, in order) for the spool in
    `folder`, opened as the daemon opens it."""
    path = folder / SPOOL
    try:
        with sqlite3.connect(path) as db:
            verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.close()
        if verdict != "ok":
            return f"integrity_check: {verdict}", []
        spool = Spool(path, 10**6, 10**9)
        try:
            items = spool.pending(0, 10**6)
        finally:
            spool.close()
    except Exception as e:  # any failure to open is what the harness counts
        return f"{type(e).__name__}: {e}", []
    return None, [json.loads(item.payload)["id"] for item in items]


Boot = Callable[[Path], list[str]]


def judge(run: Run, cuts: list[tuple[int, str]], scratch: Path, seed: int,
          boot: Boot | None = None, boot_every: int = 20) -> list[Cut]:
    """One `Cut` per (event index, mode), in one pass over the log; `boot` (Booter.boot)
    runs on every `boot_every`-th."""
    events = run.recorder.events
    mid_ids = {e.info[0]: e.info[1] for e in events if e.kind == "sent"}
    disk, made, acked, persists = Disk(), dict[str, float](), set[str](), list[tuple[float, bool]]()
    verdicts: list[Cut] = []
    rng = Random(seed)
    todo = sorted(cuts)
    at = 0
    for index, mode in todo:
        for event in events[at:index]:
            disk.step(event)
            if event.kind == "made":
                made[event.info[0]] = event.t
            elif event.kind == "acked" and event.info[0] in mid_ids:
                acked.add(mid_ids[event.info[0]])
            elif event.kind == "persisted":
                persists.append((event.info[0], event.info[1]))
        at = index
        cut_t = events[index].t if index < len(events) else events[-1].t
        folder = scratch / f"cut-{index}-{mode}"
        folder.mkdir(parents=True)
        for name, content in disk.image(rng if mode == "torn" else None).items():
            (folder / name).write_bytes(content)
        problem, ids = spooled_ids(folder)
        verdict = _verdict(run, index, mode, problem, ids, made, acked, persists, cut_t)
        if boot is not None and problem is None and len(verdicts) % boot_every == 0:
            verdict = replace(verdict, is_booted=True, is_sent_as_spooled=boot(folder) == ids)
        shutil.rmtree(folder)
        verdicts.append(verdict)
    return verdicts


def _verdict(run: Run, index: int, mode: str, problem: str | None, ids: list[str],
             made: dict[str, float], acked: set[str], persists: list[tuple[float, bool]],
             cut_t: float) -> Cut:
    order = [int(i[1:]) for i in ids]
    lost = [r for r in made if r not in acked and r not in set(ids)]
    wait_s = run.plan.write_after_s

    def should_be_kept(made_t: float) -> bool:
        return any(start >= made_t + (0.0 if is_all else wait_s) for start, is_all in persists)

    return Cut(event=index, mode=mode, problem=problem, made=len(made), acked=len(acked),
               spooled=len(ids), lost=len(lost) if problem is None else len(made),
               ages_s=tuple(cut_t - made[r] for r in lost),
               late=sum(should_be_kept(made[r]) for r in lost) if problem is None else 0,
               duplicates=len(acked & set(ids)),
               is_in_order=order == sorted(set(order)))
