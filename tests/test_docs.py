"""The README is the short way in and docs/ holds the rest: the README stays short, has its
contents at the top, every link between them lands, its example config loads, its example
results name the shipped model, and its benchmark rows are what `python -m benchmarks
--write-docs` derives from docs/benchmarks.md, word for word."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.__main__ import SECTIONS
from benchmarks.docs import FER_HEADER, readme_from, table_rows, unmarked
from edge.assets import asset_path
from edge.config import config_problems
from edge.model_contract import load_contract

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
BENCHMARKS = REPO / "docs" / "benchmarks.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
MAX_README_LINES = 350  # issue 22: a newcomer reads it in five minutes
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def local_links(page: Path) -> Iterator[tuple[str, Path, str]]:
    """Each link of `page` to a file beside it: (the link as written, the path it leads to,
    its anchor). Web links are left out; a bare `#anchor` leads to `page` itself."""
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        yield target, (page.parent / file_part).resolve() if file_part else page, anchor


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.MULTILINE | re.DOTALL)
    return {_slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def test_readme_is_short_and_starts_with_its_contents() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= MAX_README_LINES
    contents = text[text.index("**Contents**"):text.index("\n## ")]
    for heading in re.findall(r"^## (.+)$", text, re.MULTILINE):
        assert f"(#{_slug(heading)})" in contents, f"section {heading!r} missing from Contents"
    for doc in DOCS:
        assert f"(docs/{doc.name})" in contents, f"docs/{doc.name} missing from Contents"


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: str(p.relative_to(REPO)))
def test_every_local_link_lands(page: Path) -> None:
    for target, dest, anchor in local_links(page):
        assert dest.exists(), f"{page.name}: link to {target} leads nowhere"
        if anchor:
            assert anchor in _anchors(dest), f"{page.name}: no heading for #{anchor} in {dest.name}"


def test_readme_example_config_loads() -> None:
    block = re.search(r"^```toml\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL)
    assert block is not None
    assert config_problems(tomllib.loads(block.group(1))) == []


def test_readme_benchmark_rows_are_rows_of_the_full_table() -> None:
    """The README quotes the vs-fer tables of docs/benchmarks.md; a rerun written there without
    the README following (or the other way round) fails here."""
    ours = table_rows(README.read_text(), FER_HEADER)
    full = table_rows(BENCHMARKS.read_text(), FER_HEADER)
    assert len(ours) >= 5
    for metric, cells in ours.items():
        assert metric in full, f"README row {metric!r} is not in docs/benchmarks.md"
        assert full[metric][:len(cells)] == cells, metric


def test_readme_is_what_write_docs_derives_from_benchmarks_md() -> None:
    """Both benchmark tables of the README (the model's figures too) are what `--write-docs`
    makes of docs/benchmarks.md: `python -m benchmarks --write-docs` brings them in line."""
    readme = README.read_text()
    assert readme_from(readme, BENCHMARKS.read_text()) == readme


def test_every_benchmark_section_has_its_span_in_benchmarks_md() -> None:
    assert unmarked(BENCHMARKS.read_text(), SECTIONS) == []


def test_readme_example_results_name_the_shipped_model() -> None:
    """The JSON the README shows the daemon publishing carries the model it ships with."""
    shipped = load_contract(asset_path("emotion-edge.tflite")).display_name
    assert (REPO / "models" / "emotion-edge.json").resolve() == asset_path("emotion-edge.json")
    blocks = re.findall(r"^```json\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL)
    models = [json.loads(block)["model"] for block in blocks]
    assert len(models) >= 3  # a result, a failed capture, a person
    for model in models:
        assert model == shipped, f"a README example says {model}; the shipped model is {shipped}"


def test_no_default_path_leads_outside_the_checkout() -> None:
    """A user has no folder beside the checkout: data comes from --data or the environment."""
    for path in [REPO / "Makefile", *(REPO / "benchmarks").glob("*.py")]:
        text = path.read_text()
        assert "../shared" not in text and '"shared"' not in text, path.name
