"""The shape of the code, read from its imports: no circle in `edge/` or `trainer/`, no arrow
from a role folder back up to what composes it, `edge/` free of the trainer, and the size
caps issue 34 set (a trainer module <= 300 lines, the MQTT connection < 220)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# edge/'s composition: a role folder (edge/<role>/) may be put together by these, never use them
COMPOSITION = {"edge.config", "edge.app", "edge.assembly", "edge.cli", "edge.worker",
               "edge.status_line"}


def _module_name(path: Path) -> str:
    parts = list(path.with_suffix("").relative_to(ROOT).parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> Iterator[str]:
    """Every module name an import statement in the file names, at any depth (a lazy
    import inside a function is an arrow all the same)."""
    package = _module_name(path) if path.name == "__init__.py" else \
        _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(package: str) -> dict[str, set[str]]:
    files = {_module_name(p): p for p in (ROOT / package).rglob("*.py")}
    return {name: {m for m in _imported(path) if m in files and m != name}
            for name, path in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("package", ["edge", "trainer"])
def test_no_import_circle(package: str) -> None:
    assert circles(import_graph(package)) == []


def test_no_role_folder_imports_what_composes_it() -> None:
    arrows = [f"{module} -> {target}" for module, targets in import_graph("edge").items()
              if module.count(".") >= 2 for target in targets & COMPOSITION]
    assert arrows == []


def test_edge_imports_no_trainer_and_no_tensorflow() -> None:
    for path in (ROOT / "edge").rglob("*.py"):
        roots = {name.split(".")[0] for name in _imported(path)}
        assert not roots & {"trainer", "tensorflow", "keras", "tests"}, path


def test_module_size_caps() -> None:
    too_long = {str(p.relative_to(ROOT)): n for p in (ROOT / "trainer").rglob("*.py")
                if (n := len(p.read_text().splitlines())) > 300}
    assert too_long == {}
    assert len((ROOT / "edge/mqtt/connection.py").read_text().splitlines()) < 220
