"""The example config and the table of docs/configuration.md are generated from
`edge.config.Settings` and must stay current: regenerate with
`python scripts/config_reference.py --write`."""

from __future__ import annotations

import socket
from pathlib import Path
from types import ModuleType

import pytest

from edge.config import Settings, config_problems, load_settings, read_toml
from tests.scripts import load_script

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "systemd" / "config.example.toml"
STALE = "stale: run `python scripts/config_reference.py --write`"


@pytest.fixture(scope="module")
def reference() -> ModuleType:
    return load_script("config_reference")


def test_example_config_validates_and_holds_the_defaults() -> None:
    assert config_problems(read_toml(EXAMPLE)) == []
    loaded = load_settings(EXAMPLE, environ={})
    assert loaded == Settings(device_id=socket.gethostname())


def test_example_config_is_current(reference: ModuleType) -> None:
    assert EXAMPLE.read_text() == reference.toml(), STALE


def test_reference_table_is_current(reference: ModuleType) -> None:
    text = (REPO / "docs" / "configuration.md").read_text()
    assert reference.reference_with_table(text) == text, STALE


def test_reference_lists_every_key_with_its_env_variable(reference: ModuleType) -> None:
    table = reference.markdown()
    for dotted in ("mqtt.host", "trigger.button.pin", "source.path", "mqtt.spool.max_age_s"):
        env = "EMOEDGE_" + dotted.upper().replace(".", "__")
        assert f"| `{dotted}` |" in table and f"`{env}`" in table


def test_a_changed_default_makes_the_example_stale(reference: ModuleType,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The staleness check can fail: a different default gives different text."""
    before = reference.toml()
    field = Settings.model_fields["log_level"]
    monkeypatch.setattr(field, "default", "DEBUG")
    assert reference.toml() != before
