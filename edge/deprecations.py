"""Old config names that still work, in one table: each is moved to its new name while the
config is read (before validation), with one line saying what to write instead. The daemon
logs those lines once at start and `check-config` prints them. Setting an old name and its
new one in the same place (the TOML, or the environment) is a ConfigError.

Adding a rename is one `Renamed` line; `tests/edge/test_deprecations.py` checks each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from edge.errors import ConfigError

OLD_ENV_PREFIX = "EMOTION_EDGE_"

DROP = object()  # what a value map returns when the old key's value needs no new key


def _flip_averaged(value: Any) -> Any:
    """`is_flip_averaged = false` meant one invoke; true meant the model's own averaging,
    which an unset `classifier.averaging` gives."""
    try:
        is_averaged = TypeAdapter(bool).validate_python(value)
    except ValidationError:
        raise ConfigError(f"classifier.is_flip_averaged = {value!r}: expected true or false "
                          "(better: replace it with classifier.averaging)") from None
    return DROP if is_averaged else "none"


@dataclass(frozen=True)
class Renamed:
    """A dotted key (a value or a whole table) that now lives at `new`; `value` maps an
    old value to the new one (DROP: the old value is now the default)."""

    old: str
    new: str
    value: Callable[[Any], Any] | None = None
    hint: str = ""

    def message(self, old: str, new: str, value: Any) -> str:
        if value is DROP:
            return f"deprecated: {old}: delete it ({self.hint})"
        return f"deprecated: {old}: write {new} instead{self.hint and f' ({self.hint})'}"


RENAMED: tuple[Renamed, ...] = (
    Renamed("camera", "source"),
    Renamed("classifier.tta", "classifier.averaging"),
    Renamed("classifier.continuous_tta", "trigger.continuous.averaging"),
    Renamed("classifier.is_flip_averaged", "classifier.averaging", _flip_averaged,
            hint="classifier.averaging = \"none\" is what false meant; true, the default, "
            "is the model's own averaging"),
    Renamed("trigger.min_interval_s", "worker.min_interval_s"),
    Renamed("trigger.queue_size", "worker.queue_size"),
    Renamed("trigger.capture_timeout_s", "worker.capture_timeout_s"),
)


def upgrade(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A TOML table with every old key moved to its new place, and one line per old key.
    ConfigError when an old key and its new one are both set."""
    out = _copy(data)
    notes: list[str] = []
    for renamed in RENAMED:
        old_path, new_path = renamed.old.split("."), renamed.new.split(".")
        parent = _table(out, old_path[:-1])
        if parent is None or old_path[-1] not in parent:
            continue
        value = _mapped(renamed, parent[old_path[-1]])
        notes.append(renamed.message(renamed.old, renamed.new, value))
        if value is not DROP and not _put(out, new_path, value):
            raise ConfigError(f"{renamed.old} and {renamed.new} are both set: they are the "
                              f"same setting; keep {renamed.new} only")
        del parent[old_path[-1]]
    return out, notes


def upgrade_env(name: str, keys: list[str], value: str,
                prefix: str) -> tuple[list[str], Any, str | None]:
    """One environment variable's dotted key and value with old names replaced, and the line
    that says so (None: nothing old in it). `name` is the variable as written, `keys` its
    dotted key split, `prefix` the prefix to suggest."""
    for renamed in RENAMED:
        old = renamed.old.split(".")
        if keys[:len(old)] == old:
            new = renamed.new.split(".") + keys[len(old):]
            mapped = _mapped(renamed, value)
            return new, mapped, renamed.message(name, _env_name(prefix, new), mapped)
    if not name.startswith(prefix):
        return keys, value, f"deprecated: {name}: write {_env_name(prefix, keys)} instead"
    return keys, value, None


def _env_name(prefix: str, keys: list[str]) -> str:
    return prefix + "__".join(keys).upper()


def _mapped(renamed: Renamed, value: Any) -> Any:
    return value if renamed.value is None else renamed.value(value)


def _copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}


def _table(data: dict[str, Any], path: list[str]) -> dict[str, Any] | None:
    node: Any = data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _put(data: dict[str, Any], path: list[str], value: Any) -> bool:
    """Set `path` to `value`, making missing tables; False when it is already set (a value
    that is not a table in the way is left for validation to name)."""
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            return True
    if path[-1] in node:
        return False
    node[path[-1]] = value
    return True
