"""`--write-docs` (benchmarks/docs.py) on small made-up results, with no benchmark run: it
replaces the spans of the sections that ran and nothing else, refuses a page without a
section's markers before writing anything, and derives the README's rows from the page."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest

from benchmarks import __main__ as bench_main
from benchmarks import docs
from benchmarks.report import Row, section_command, section_table

PAGE = """# Benchmarks

Prose a person wrote.

<!-- benchmarks:accuracy -->

old accuracy

<!-- /benchmarks:accuracy -->

More prose, with a [link](#benchmarks).

<!-- benchmarks:detector -->
old detector
<!-- /benchmarks:detector -->
"""

ACCURACY = [
    Row("Accuracy, FER2013 PrivateTest, averaging=crops, 10 invokes (the default), n=3589 (%)",
        "65.1", "65.9", "-0.8 pts"),
    Row("Accuracy, FER2013 PrivateTest, averaging=flip, 2 invokes, n=3589 (%)", "64.7", "65.9",
        "-1.2 pts"),
    *(Row(f"FER+ PrivateTest, averaging={name}: {what}", ours, peer)
      for name, figures in (("crops, 10 invokes (the default)", ("82.1", "84.4", "77.4", "63.6",
                                                                "92.0", "0.010", "0.970")),
                           ("flip, 2 invokes", ("80.9", "83.2", "75.3", "54.5", "92.0",
                                                "0.013", "0.986")))
      for what, ours, peer in zip(
          ("majority accuracy, our rule, n=3349 (%)",
           "majority accuracy, Barsoum's 7-class, n=3136 (%)", "mean per-emotion recall (%)",
           "recall of disgust (%)", "recall of happy (%)", "calibration error (ECE, 15 bins)",
           "cross-entropy against the vote shares"),
          figures, ("65.1", "67.3", "64.6", "59.1", "86.9", "0.071", "1.308"), strict=True)),
]
E2E = [Row("End-to-end per 640x480 frame: file, detect, classify, median (ms, n=200)", "21.46",
           "116.97", "5.5x faster", ">= 4x faster: met")]

README = """# emotion-edge

| PrivateTest | FER+ majority, our rule (n=1) | Barsoum's 7-class (n=1) | mean per-emotion recall (lowest) | ECE | cross-entropy vs votes | FER2013 single label (n=1) |
|---|---|---|---|---|---|---|
| `crops`, 10 invokes (triggered captures' default) | **1.0%** | **1.0%** | **1.0%** (sad 0.01) | 0.5 | 0.5 | 1.0% |
| `flip`, 2 invokes (continuous mode's default) | 1.0% | 1.0% | 1.0% (sad 0.01) | 0.5 | 0.5 | 1.0% |
| model shipped before, `crops` | 81.4% | 83.6% | 76.3% (disgust 0.64) | 0.021 | 0.965 | 65.1% |
| the `fer` package | 1.0% | 1.0% | 1.0% (sad 0.01) | 0.5 | 0.5 | 1.0% |

| Metric | emotion-edge | fer 1.0 | emotion-edge vs peer | Goal |
|---|---|---|---|---|
| Accuracy, FER2013 PrivateTest, averaging=crops, 10 invokes (the default), n=300 (%) | 1.0 | 1.0 | 0 pts |  |
| End-to-end per 640x480 frame: file, detect, classify, median (ms, n=5) | 1.00 | 1.00 | 1.0x faster |  |
| A row this run has not measured | 7 | 7 |  |  |
"""  # noqa: E501


def _bench_page() -> str:
    return docs.replace_sections(
        PAGE.replace("detector", "e2e"),
        {"accuracy": section_table(ACCURACY, "fer 25.10.3"),
         "e2e": section_table(E2E, "fer 25.10.3")})


def test_a_section_is_replaced_and_the_rest_of_the_page_kept() -> None:
    new = docs.replace_sections(PAGE, {"accuracy": "`cmd`, when, on a machine:\n\n| a |\n|---|"})
    assert "old accuracy" not in new and "| a |\n|---|" in new
    head, tail = PAGE.split("old accuracy")
    assert new.startswith(head.rstrip("\n")) and new.endswith(tail.lstrip("\n"))
    assert "old detector" in new
    assert docs.replace_sections(new, {"accuracy": "`cmd`, when, on a machine:\n\n| a |\n|---|"}
                                 ) == new  # the same body again changes nothing


def test_missing_markers_are_an_error_that_says_what_to_add() -> None:
    with pytest.raises(docs.DocsError) as caught:
        docs.replace_sections(PAGE, {"accuracy": "new", "crop": "new"})
    message = str(caught.value)
    assert "<!-- benchmarks:crop -->" in message and "<!-- /benchmarks:crop -->" in message
    assert "for section crop:" in message  # accuracy has its markers
    twice = PAGE.replace("<!-- /benchmarks:detector -->",
                         "<!-- /benchmarks:detector -->\n<!-- benchmarks:detector -->")
    backwards = PAGE.replace("<!-- benchmarks:detector -->", "@").replace(
        "<!-- /benchmarks:detector -->", "<!-- benchmarks:detector -->").replace(
        "@", "<!-- /benchmarks:detector -->")
    for page in (twice, backwards):
        assert docs.unmarked(page, ["accuracy", "detector"]) == ["detector"]


def test_write_docs_writes_nothing_when_a_section_has_no_span(tmp_path: Path) -> None:
    page, readme = tmp_path / "benchmarks.md", tmp_path / "README.md"
    page.write_text(_bench_page())
    readme.write_text(README)
    with pytest.raises(docs.DocsError):
        docs.write_docs({"e2e": "new", "tracking": "new"}, page, readme)
    assert page.read_text() == _bench_page() and readme.read_text() == README


def test_the_readme_rows_follow_the_page() -> None:
    """Each README row takes the page's row of the same metric (n aside); the model table takes
    its figures from the accuracy rows, bold kept, the lowest recall named; rows the page does
    not have stay as written."""
    new = docs.readme_from(README, _bench_page())
    rows = docs.table_rows(new, docs.FER_HEADER)
    assert rows[ACCURACY[0].metric] == ["65.1", "65.9", "-0.8 pts", ""]
    assert rows[E2E[0].metric] == ["21.46", "116.97", "5.5x faster", ">= 4x faster: met"]
    assert rows["A row this run has not measured"] == ["7", "7", "", ""]
    assert "| Metric | emotion-edge | fer 25.10.3 |" in new
    model = docs.table_rows(new, docs.MODEL_HEADER)
    assert model["`crops`, 10 invokes (triggered captures' default)"] == [
        "**82.1%**", "**84.4%**", "**77.4%** (disgust 0.64)", "0.010", "0.970", "65.1%"]
    assert model["`flip`, 2 invokes (continuous mode's default)"] == [
        "80.9%", "83.2%", "75.3% (disgust 0.55)", "0.013", "0.986", "64.7%"]
    assert model["the `fer` package"] == [
        "65.1%", "67.3%", "64.6% (disgust 0.59)", "0.071", "1.308", "65.9%"]
    assert model["model shipped before, `crops`"][0] == "81.4%"
    assert "our rule (n=3,349)" in new and "7-class (n=3,136)" in new and "(n=3,589)" in new
    assert docs.readme_from(new, _bench_page()) == new


def test_a_stamp_names_the_command_without_write_docs(tmp_path: Path) -> None:
    command = section_command(tmp_path, ["--only", "crop", "--faces", "1200", "--write-docs",
                                         "--out", "x.md"], "crop")
    assert command.endswith("-m benchmarks --faces 1200 --only crop")
    line = docs.stamp(command, "2026-12-08 00:10 UTC", "2 cores of X", "m@1")
    assert line == f"`{command}`, 2026-12-08 00:10 UTC, model m@1, on 2 cores of X:"


def test_only_writes_the_sections_it_ran(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """`--only training --write-docs` rewrites the training span under its stamp, and no other;
    the measuring itself is replaced by a made-up table."""
    for key, value in bench_main.THREAD_ENV.items():
        monkeypatch.setenv(key, value)  # main sets them; monkeypatch puts them back
    page, readme, data = tmp_path / "benchmarks.md", tmp_path / "README.md", tmp_path / "f.npz"
    page.write_text(_bench_page().replace("e2e", "training"))
    readme.write_text(README)
    data.touch()
    monkeypatch.setattr(docs, "BENCHMARKS_MD", page)
    monkeypatch.setattr(docs, "README", readme)
    monkeypatch.setattr(bench_main, "_tables", lambda args, argv: iter(
        [bench_main.Table(["| precision | faces/s |", "|---|---|", "| float32 | 411 |"],
                          partial(bench_main._as_body, "training"))]))
    assert bench_main.main(["--only", "training", "--data", str(data), "--write-docs"]) == 0
    text = page.read_text()
    span = text.split("<!-- benchmarks:training -->")[1].split("<!-- /benchmarks:training -->")[0]
    stamp, table = span.strip().split("\n\n")
    assert stamp.startswith("`") and "-m benchmarks --data" in stamp and "--only training`" in stamp
    assert " UTC, on " in stamp and f"{os.cpu_count()} cores of " in stamp
    assert table == "| precision | faces/s |\n|---|---|\n| float32 | 411 |"
    assert text.split("<!-- benchmarks:training -->")[0] == _bench_page().split(
        "<!-- benchmarks:e2e -->")[0]  # the accuracy span and the prose untouched


def test_write_docs_is_refused_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page, data = tmp_path / "benchmarks.md", tmp_path / "f.npz"
    page.write_text(PAGE)
    data.touch()
    monkeypatch.setattr(docs, "BENCHMARKS_MD", page)
    for argv, says in ((["--only", "training", "--quick"], "without --quick"),
                       (["--only", "training"], "<!-- benchmarks:training -->")):
        with pytest.raises(SystemExit):
            bench_main.parse_args([*argv, "--data", str(data), "--write-docs"])
        assert says in capsys.readouterr().err
    assert bench_main.parse_args(["--only", "detector", "--write-docs", "--photos",
                                  str(_photos(tmp_path))]).write_docs


def _photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "boxes.json").write_text("{}")
    return folder
