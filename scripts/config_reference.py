"""Generate the configuration reference from `edge.config.Settings`, the one source of truth.

    python scripts/config_reference.py --markdown   # the table of docs/configuration.md
    python scripts/config_reference.py --toml       # systemd/config.example.toml
    python scripts/config_reference.py --write      # rewrite both files in place

tests/deploy/test_config_reference.py fails when either file is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from edge.config import ENV_PREFIX, Settings

REPO = Path(__file__).resolve().parent.parent

EXAMPLE = REPO / "systemd" / "config.example.toml"
REFERENCE = REPO / "docs" / "configuration.md"
BEGIN, END = "<!-- CONFIG:BEGIN -->", "<!-- CONFIG:END -->"
NO_DEFAULT = object()


@dataclass(frozen=True)
class Key:
    """One leaf setting: dotted key, default (NO_DEFAULT when required), type, description;
    `kind` names the kind (of source or detector) the key belongs to, if any."""

    dotted: str
    default: Any
    type_name: str
    description: str
    is_factory: bool = False
    kind: str | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.dotted.upper().replace(".", "__")


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(json.dumps(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return "none"
    return getattr(annotation, "__name__", str(annotation)).replace("Path", "path")


def _model_class(annotation: Any) -> type[BaseModel] | None:
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return annotation if is_model else None


def _variants(annotation: Any) -> list[type[BaseModel]]:
    """The variants of a discriminated union such as `camera`, or [] for anything else."""
    args = typing.get_args(annotation)
    inner = typing.get_args(args[0]) if typing.get_origin(annotation) is typing.Annotated else args
    return [a for a in inner if _model_class(a)]


def _kind(variant: type[BaseModel]) -> str:
    return str(variant.model_fields["kind"].default)


def _leaf(dotted: str, info: FieldInfo, kind: str | None = None) -> Key:
    if info.default_factory is not None:
        default, is_factory = NO_DEFAULT, True
    else:
        default = NO_DEFAULT if info.default is PydanticUndefined else info.default
        is_factory = False
    description = info.description or ("the backend (the only one so far)" if
                                       dotted.endswith(".kind") else "")
    return Key(dotted, default, _type_name(info.annotation), description, is_factory, kind)


def keys(model: type[BaseModel] = Settings, prefix: str = "") -> list[Key]:
    """Every leaf key in declaration order; a union contributes its `kind` once, then the
    keys of each variant in turn."""
    out: list[Key] = []
    for name, info in _kind_first(model):
        nested, variants = _model_class(info.annotation), _variants(info.annotation)
        if nested is not None:
            out += keys(nested, f"{prefix}{name}.")
        elif variants:
            kinds = [_kind(v) for v in variants]
            out.append(Key(f"{prefix}{name}.kind", kinds[0], " \\| ".join(map(json.dumps, kinds)),
                           f"which {_UNION_ROLES.get(name, 'backend')} to use; the keys "
                           "below depend on it"))
            for variant, kind in zip(variants, kinds, strict=True):
                out += [_leaf(f"{prefix}{name}.{n}", i, kind)
                        for n, i in _kind_first(variant) if n != "kind"]
        else:
            out.append(_leaf(f"{prefix}{name}", info))
    return out


_UNION_ROLES = {"source": "frame source", "detector": "face detector"}


def _kind_first(model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """A model's fields with `kind` first, wherever inheritance put it."""
    return sorted(model.model_fields.items(), key=lambda item: item[0] != "kind")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def _shown_default(key: Key) -> str:
    if key.is_factory:
        return "the host name" if key.dotted == "device_id" else "(computed)"
    if key.default is NO_DEFAULT:
        return "**required**"
    return "unset" if key.default is None else f"`{_toml_value(key.default)}`"


def markdown() -> str:
    """The reference table: one row per key, union keys marked with the kind they belong to."""
    rows = ["| Key | Default | Environment variable | Type | Meaning |",
            "|---|---|---|---|---|"]
    for key in keys():
        note = f"(kind = {key.kind}) " if key.kind else ""
        meaning = f"{note}{key.description}".replace("|", "\\|")
        rows.append(f"| `{key.dotted}` | {_shown_default(key)} | `{key.env}` | "
                    f"{key.type_name} | {meaning} |")
    return "\n".join(rows) + "\n"


def _toml_line(key: Key, name: str, is_active: bool) -> list[str]:
    lines = [f"# {key.description}"] if key.description else []
    if key.is_factory or key.default is None or key.default is NO_DEFAULT:
        hint = _HINTS.get(key.type_name.split(" ")[0], '"..."')
        hint = '"<host name>"' if key.is_factory else hint
        lines.append(f"# {name} = {hint}")
    else:
        lines.append(("" if is_active else "# ") + f"{name} = {_toml_value(key.default)}")
    return lines


_HINTS = {"float": "30.0", "int": "27", "path": '"/path/to/file"', "str": '"..."'}


def _table(model: type[BaseModel], path: str, is_active: bool = True) -> list[str]:
    """One TOML table and its subtables; scalar keys come before subtables, as TOML needs."""
    out: list[str] = []
    mark = "" if is_active else "# "
    if path:
        out += ["", f"{mark}[{path}]"]
    subtables: list[str] = []
    for name, info in _kind_first(model):
        dotted = f"{path}.{name}" if path else name
        nested, variants = _model_class(info.annotation), _variants(info.annotation)
        if nested is not None:
            subtables += _table(nested, dotted, is_active)
        elif variants:
            subtables += _union(dotted, variants)
        else:
            out += _toml_line(_leaf(dotted, info), name, is_active)
    return out + subtables


def _union(path: str, variants: list[type[BaseModel]]) -> list[str]:
    """The first variant active, the others commented out (a file holds one `kind`)."""
    out: list[str] = []
    for index, variant in enumerate(variants):
        if index:
            kind = json.dumps(_kind(variant))
            out += ["", f"# -- or, instead of the [{path}] table above, kind = {kind}:"]
        out += _table(variant, path, is_active=index == 0)
    return out


def toml() -> str:
    head = ["# emotion-edge configuration: every key with its default and what it means.",
            "# Generated by scripts/config_reference.py from edge/config.py; do not edit by hand.",
            "# Copy to /etc/emotion-edge/config.toml and change what you need; keys you leave",
            "# out keep their defaults. Any key can be overridden by an environment variable:",
            "# mqtt.host -> EMOEDGE_MQTT__HOST (see docs/configuration.md).",
            "# Secrets never go here: the MQTT password comes from the credential file",
            "# /etc/emotion-edge/mqtt-password (systemd LoadCredential=)."]
    return "\n".join(head + _table(Settings, "")) + "\n"


def reference_with_table(text: str) -> str:
    """docs/configuration.md with the part between the CONFIG markers replaced by the current
    table."""
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{REFERENCE}: markers {BEGIN} / {END} not found")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{markdown()}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--markdown", action="store_true", help="print the reference table")
    group.add_argument("--toml", action="store_true", help="print the example config")
    group.add_argument("--write", action="store_true",
                       help=f"rewrite {EXAMPLE.name} and the table in docs/{REFERENCE.name}")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(), end="")
    elif args.toml:
        print(toml(), end="")
    else:
        EXAMPLE.write_text(toml())
        REFERENCE.write_text(reference_with_table(REFERENCE.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
