"""The generated text of docs/benchmarks.md and the README (`python -m benchmarks
--write-docs`).

Each section `python -m benchmarks` can run owns a span of docs/benchmarks.md between two
markers, invisible on the rendered page:

    <!-- benchmarks:accuracy -->
    `<the command>`, <date> UTC, model <name@version>, on <the machine>:

    <the section's Markdown>
    <!-- /benchmarks:accuracy -->

`--write-docs` replaces the spans of the sections that ran and nothing else: the text around
them is written by people. The README's benchmark rows are then derived from
docs/benchmarks.md by `readme_from`, the rule tests/test_docs.py holds both files to.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from . import REPO

BENCHMARKS_MD = REPO / "docs" / "benchmarks.md"
README = REPO / "README.md"
FER_HEADER = "| Metric | emotion-edge | fer"  # the vs-fer tables, and the README's rows of them
MODEL_HEADER = "| PrivateTest | FER+ majority"  # the README's model table, from the accuracy rows


class DocsError(Exception):
    """A file `--write-docs` writes cannot take the text: the message says what to fix."""


def markers(name: str) -> tuple[str, str]:
    """The lines that open and close section `name`'s span in docs/benchmarks.md."""
    return f"<!-- benchmarks:{name} -->", f"<!-- /benchmarks:{name} -->"


def unmarked(text: str, names: Iterable[str]) -> list[str]:
    """The sections of `names` that `text` does not mark exactly once, opening before closing."""
    missing = []
    for name in names:
        start, end = markers(name)
        if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
            missing.append(name)
    return missing


def marker_problem(missing: list[str], where: str) -> str:
    first = markers(missing[0])
    return (f"{where} has no single {first[0]} ... {first[1]} pair for section"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}: put each section's pair "
            "of lines around the text it replaces (see benchmarks/docs.py)")


def stamp(command: str, when: str, machine: str, model: str | None = None) -> str:
    """The line above a section's Markdown: what ran, when, on which model and machine."""
    used = f", model {model}" if model else ""
    return f"`{command}`, {when}{used}, on {machine}:"


def replace_sections(text: str, bodies: Mapping[str, str],
                     where: str = "docs/benchmarks.md") -> str:
    """`text` with each named span holding its new body; every other line kept as it was.
    DocsError, before anything is replaced, when a section's markers are missing."""
    missing = unmarked(text, bodies)
    if missing:
        raise DocsError(marker_problem(missing, where))
    for name, body in bodies.items():
        start, end = markers(name)
        head, rest = text.split(start)
        tail = rest.split(end)[1]
        text = f"{head}{start}\n\n{body.strip()}\n\n{end}{tail}"
    return text


def write_docs(bodies: Mapping[str, str], benchmarks_md: Path | None = None,
               readme: Path | None = None) -> None:
    """Put `bodies` (section -> stamped Markdown) into `benchmarks_md` (default
    docs/benchmarks.md), then the rows derived from it into `readme` (default the README).
    Neither file changes when either cannot take its text (DocsError)."""
    benchmarks_md, readme = benchmarks_md or BENCHMARKS_MD, readme or README
    bench = replace_sections(benchmarks_md.read_text(encoding="utf-8"), bodies,
                             benchmarks_md.name)
    new_readme = readme_from(readme.read_text(encoding="utf-8"), bench)
    benchmarks_md.write_text(bench, encoding="utf-8")
    readme.write_text(new_readme, encoding="utf-8")


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_rows(text: str, header: str) -> dict[str, list[str]]:
    """The rows of every Markdown table in `text` whose header line starts with `header`:
    first cell -> the other cells."""
    rows: dict[str, list[str]] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(header):
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                first, *rest = cells(row)
                rows[first] = rest
    return rows


def readme_from(readme: str, bench: str) -> str:
    """The README with its benchmark rows taken from docs/benchmarks.md: each row of its
    vs-fer table from the row of the same metric (its n aside), and the figures of its model
    table from the accuracy rows. A row that has no counterpart is left as written."""
    rows = table_rows(bench, FER_HEADER)
    if not rows:
        raise DocsError(f"docs/benchmarks.md has no table whose header starts {FER_HEADER!r}")
    header = next(line for line in bench.splitlines() if line.startswith(FER_HEADER))
    by_key = {_key(metric): [metric, *rest] for metric, rest in rows.items()}
    readme = _rewrite_table(readme, FER_HEADER, lambda old: cells(header)[:len(old)],
                            lambda old: by_key.get(_key(old[0]), old)[:len(old)])
    figures = _model_figures(rows)
    return _rewrite_table(readme, MODEL_HEADER, lambda old: _model_header(old, figures),
                          lambda old: _model_row(old, figures))


def _key(metric: str) -> str:
    """A metric's name without what a run's options change: its n and its count of runs."""
    return re.sub(r"\bn=[\d,]+|median of \d+", "#", metric)


def _rewrite_table(text: str, header: str, new_header: Callable[[list[str]], list[str]],
                   new_row: Callable[[list[str]], list[str]]) -> str:
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith(header)), None)
    if start is None:
        raise DocsError(f"the README has no table whose header starts {header!r}")
    lines[start] = _line(new_header(cells(lines[start])))
    for i in range(start + 2, len(lines)):
        if not lines[i].startswith("|"):
            break
        lines[i] = _line(new_row(cells(lines[i])))
    return "\n".join(lines)


def _line(row: list[str]) -> str:
    return "| " + " | ".join(row) + " |"


def _model_figures(rows: Mapping[str, list[str]]) -> dict[str, dict[str, str]]:
    """Averaging (and "fer") -> the model table's figures, from the accuracy rows: "majority",
    "barsoum", "recall", "lowest", "ece", "cross_entropy", "fer2013", and their n."""
    figures: dict[str, dict[str, str]] = {}
    for metric, row in rows.items():
        found = re.match(r"(FER\+|Accuracy, FER2013) PrivateTest, averaging=(\w+)[^:]*(?:: (.*))?$",
                         metric)
        if found is None:
            continue
        source, averaging, what = found.groups()
        for who, value in zip((averaging, "fer"), row[:2], strict=False):
            if re.fullmatch(r"[\d.]+", value):
                into = figures.setdefault(who, {})
                if source == "FER+":
                    _crowd_figure(into, what or "", value)
                else:
                    into["fer2013"], into["n_fer2013"] = value, _n(metric)
    return figures


CROWD = {"majority accuracy, our rule": "majority", "majority accuracy, Barsoum": "barsoum",
         "mean per-emotion recall": "recall", "calibration error": "ece",
         "cross-entropy": "cross_entropy"}


def _crowd_figure(into: dict[str, str], what: str, value: str) -> None:
    name = next((key for start, key in CROWD.items() if what.startswith(start)), None)
    if name is not None:
        into[name], into[f"n_{name}"] = value, _n(what)
    elif (emotion := re.match(r"recall of (\w+)", what)) and (
            "lowest_value" not in into or float(value) < float(into["lowest_value"])):
        share = (Decimal(value) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        into["lowest"], into["lowest_value"] = f"{emotion.group(1)} {share}", value


def _n(metric: str) -> str:
    found = re.search(r"\bn=(\d+)", metric)
    return f"{int(found.group(1)):,}" if found else ""


MODEL_COLUMNS = ("majority", "barsoum", "recall", "ece", "cross_entropy", "fer2013")


def _model_header(old: list[str], figures: Mapping[str, Mapping[str, str]]) -> list[str]:
    ours = figures.get(_first_averaging(figures), {})
    new = [old[0]]
    for cell, column in zip(old[1:], MODEL_COLUMNS, strict=False):
        n = ours.get(f"n_{column}")
        new.append(re.sub(r"\bn=[\d,]+", f"n={n}", cell) if n else cell)
    return new


def _first_averaging(figures: Mapping[str, Mapping[str, str]]) -> str:
    return next((who for who in figures if who != "fer"), "")


def _model_row(old: list[str], figures: Mapping[str, Mapping[str, str]]) -> list[str]:
    """A row of the README's model table: "`<averaging>`, ..." is ours, "the `fer` package"
    the peer; other rows (a model shipped before) keep their figures."""
    averaging = re.match(r"`(\w+)`,", old[0])
    who = averaging.group(1) if averaging else "fer" if old[0] == "the `fer` package" else ""
    mine = figures.get(who)
    if mine is None or not all(mine.get(column) for column in MODEL_COLUMNS):
        return old
    new = [old[0]]
    for cell, column in zip(old[1:], MODEL_COLUMNS, strict=False):
        value = mine[column] + ("" if column in ("ece", "cross_entropy") else "%")
        if cell.startswith("**"):
            value = f"**{value}**"
        if column == "recall" and "lowest" in mine:
            value += f" ({mine['lowest']})"
        new.append(value)
    return new
