"""Backends by `kind`: how a role finds the backend its config names without importing it.

A role with several backends (`edge.sources`, `edge.detect`, `edge.classify`) keeps its
config classes, one per backend, in a union in its `config.py`, and a table in its
`__init__.py` from each `kind` to the backend's constructor as "module:name". The module
is imported only when that kind is opened, so loading a config imports no vendor library
(OpenCV, picamera2, LiteRT). Adding a backend is its config class, its file and one line
in the table; `tests/edge/test_registry.py` checks that every kind has a line and back.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any, get_args, get_origin


def kinds_of(config: Any) -> tuple[str, ...]:
    """The `kind` of each variant of a config union (plain or `Annotated`), in order; a
    config class with a `kind` field gives its one kind."""
    if get_origin(config) is Annotated:
        config = get_args(config)[0]
    variants = get_args(config) or (config,)
    return tuple(str(variant.model_fields["kind"].default) for variant in variants)


def load(target: str) -> Any:
    """The object `target` ("package.module:name") names, importing its module."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
