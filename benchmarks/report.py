"""The benchmark's table: rows, ratios against the peer, median/p90, and the Markdown.

Helpers for `versus_fer.py`; no measurement of their own except `alternate`, which times two
callables in turns so that both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    """One line of the table: the metric, our figure, the peer's (or why it is missing), how
    ours compares, and the issue's goal for it when there is one."""

    metric: str
    ours: str
    peer: str
    compare: str = ""
    goal: str = ""


def percentile_ms(samples: list[float], q: float) -> float:
    import numpy as np  # lazily: __main__ sets the thread variables first

    return float(np.percentile(np.asarray(samples), q))


def alternate(ours: Callable[[], object], peer: Callable[[], object] | None, n: int,
              warmup: int) -> tuple[list[float], list[float]]:
    """Time `ours` and `peer` in turns (who goes first swaps every turn), n times each after
    `warmup` untimed turns; milliseconds."""
    ours_ms: list[float] = []
    peer_ms: list[float] = []
    for i in range(warmup + n):
        turn = [(ours, ours_ms), (peer, peer_ms)]
        for fn, out in turn if i % 2 == 0 else turn[::-1]:
            if fn is None:
                continue
            start = time.perf_counter()
            fn()
            if i >= warmup:
                out.append((time.perf_counter() - start) * 1000.0)
    return ours_ms, peer_ms


def ratio(peer: float, ours: float, better: str, worse: str) -> str:
    """'4.2x faster' when ours costs 4.2 times less than the peer, '1.5x slower' otherwise."""
    if ours <= 0 or peer <= 0:
        return ""
    r = peer / ours
    return f"{r:.1f}x {better}" if r >= 1 else f"{1 / r:.1f}x {worse}"


def goal(is_met: bool, text: str) -> str:
    return f"{text}: {'met' if is_met else '**not met**'}"


def timing_rows(name: str, ours: list[float], peer: list[float], skip: str,
                target_x: float | None = None) -> list[Row]:
    """Median and p90 rows for one timed thing; `target_x` is the speed-up goal, if any."""
    rows = []
    for label, q in (("median", 50.0), ("p90", 90.0)):
        mine = percentile_ms(ours, q)
        theirs = percentile_ms(peer, q) if peer else None
        compare = ratio(theirs, mine, "faster", "slower") if theirs else ""
        aim = ""
        if target_x is not None and label == "median":
            aim = goal(bool(theirs and theirs / mine >= target_x), f">= {target_x:g}x faster")
        rows.append(Row(f"{name}, {label} (ms, n={len(ours)})", f"{mine:.2f}",
                        f"{theirs:.2f}" if theirs else skip, compare, aim))
    return rows


COLUMNS = ("Metric", "emotion-edge", "{peer}", "emotion-edge vs peer", "Goal")


def render(title: str, notes: list[str], sections: dict[str, list[Row]],
           commands: dict[str, str], peer_name: str) -> str:
    """The Markdown: a title, notes, one table, then the numbered command of each section."""
    lines = [f"## {title}", "", *notes, "", *_header(peer_name, "Command")]
    refs = {name: f"[{i}]" for i, name in enumerate(sections, start=1)}
    for name, rows in sections.items():
        lines += [_line(row, refs[name]) for row in rows]
    lines += ["", "Commands (from the repository root):", ""]
    lines += [f"- {refs[name]} `{commands[name]}`" for name in sections]
    return "\n".join(lines) + "\n"


def section_table(rows: list[Row], peer_name: str) -> str:
    """One section's rows as a table of its own, without the Command column: what
    `--write-docs` puts between the section's markers, under the line naming its command."""
    return "\n".join([*_header(peer_name), *(_line(row) for row in rows)]) + "\n"


def _header(peer_name: str, *extra: str) -> list[str]:
    names = [*(name.format(peer=peer_name) for name in COLUMNS), *extra]
    return ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]


def _line(row: Row, *extra: str) -> str:
    cells = (row.metric, row.ours, row.peer, row.compare, row.goal, *extra)
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


def section_command(repo: Path, argv: list[str], section: str) -> str:
    """The command that reruns one section with the same options (minus --only, --out and
    --write-docs)."""
    kept, skipping = [], ""
    for arg in argv:
        if skipping == "--only" and not arg.startswith("-"):  # --only takes one or more
            continue
        if skipping == "--out":
            skipping = ""
            continue
        skipping = arg if arg in ("--only", "--out") else ""
        if not skipping and arg != "--write-docs" and not arg.startswith(("--only=", "--out=")):
            kept.append(arg)
    python = sys.executable
    if Path(python).is_relative_to(repo):
        python = str(Path(python).relative_to(repo))
    return shlex.join([python, "-m", "benchmarks", *kept, "--only", section])


def _shown(path: Path) -> str:
    """`path` as a reader can use it: relative to the working directory when inside it, else
    its name (an absolute path would be this machine's)."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return path.name


def notes(args: argparse.Namespace, peer: Any, skip: str, machine: str) -> list[str]:
    """What was compared and how, above the table (`machine`: `machine.describe()`)."""
    meta = json.loads(args.model.with_suffix(".json").read_text())
    peer_text = (f"fer {peer.version} (`FER(mtcnn=False)`, its mini-Xception TFLite through "
                 "`tf.lite.Interpreter`)") if peer else skip
    return [f"Ours: `{_shown(args.model)}` ({meta.get('name')}@{meta.get('version')}, "
            f"{meta.get('quantization')}, sha256 {str(meta.get('sha256'))[:12]}) through "
            "LiteRT, with the daemon's default settings. Peer: " + peer_text + ".",
            f"Machine: {machine}. One thread on both sides (OpenCV, LiteRT, fer's TFLite "
            "interpreter, OMP, TensorFlow). Ours and the peer alternate call by call, so "
            "compare ratios: absolute times on a busy machine are noisy."]
