"""Old config names: each still works as its new name, with one line saying what to write
instead; an old name and its new one set together is an error."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from edge.config import Settings, apply_env, load_settings, read_config
from edge.deprecations import RENAMED, upgrade
from edge.errors import ConfigError

BEFORE = Path(__file__).resolve().parents[1] / "data" / "config-before-names.toml"


def nested(dotted: str, value: Any) -> dict[str, Any]:
    *tables, key = dotted.split(".")
    data: dict[str, Any] = {key: value}
    for table in reversed(tables):
        data = {table: data}
    return data


def get(settings: Settings, dotted: str) -> Any:
    node: Any = settings
    for key in dotted.split("."):
        node = getattr(node, key)
    return node


# an old key, a value for it, the new key and the value it becomes there
CASES = [
    ("classifier.tta", "crops", "classifier.averaging", "crops"),
    ("classifier.continuous_tta", "none", "trigger.continuous.averaging", "none"),
    ("classifier.is_flip_averaged", False, "classifier.averaging", "none"),
    ("trigger.min_interval_s", 2.5, "worker.min_interval_s", 2.5),
    ("trigger.queue_size", 3, "worker.queue_size", 3),
    ("trigger.capture_timeout_s", 4.0, "worker.capture_timeout_s", 4.0),
]


def test_an_old_table_moves_whole_and_says_what_to_write() -> None:
    data, notes = upgrade({"camera": {"kind": "images", "path": "faces"}})
    assert Settings.model_validate(data).source.kind == "images"
    assert notes == ["deprecated: camera: write source instead"]
    with pytest.raises(ConfigError, match="camera and source are both set"):
        upgrade({"camera": {"kind": "opencv"}, "source": {"kind": "images", "path": "x"}})


def test_an_old_tables_keys_in_the_environment_move_with_it() -> None:
    data, [note] = apply_env({}, {"EMOEDGE_CAMERA__KIND": "opencv"})
    assert data == {"source": {"kind": "opencv"}}
    assert note == "deprecated: EMOEDGE_CAMERA__KIND: write EMOEDGE_SOURCE__KIND instead"


def test_every_renamed_key_has_a_case() -> None:
    assert {r.old for r in RENAMED} == {old for old, *_ in CASES} | {"camera"}


@pytest.mark.parametrize(("old", "value", "new", "expected"), CASES)
def test_an_old_key_in_the_file_works_and_says_what_to_write(
        old: str, value: Any, new: str, expected: Any) -> None:
    data, notes = upgrade(nested(old, value))
    assert get(Settings.model_validate(data), new) == expected
    [note] = notes
    assert note.startswith(f"deprecated: {old}: write {new} instead")


@pytest.mark.parametrize(("old", "value", "new", "expected"), CASES)
def test_the_new_key_works(old: str, value: Any, new: str, expected: Any) -> None:
    data, notes = upgrade(nested(new, expected))
    assert get(Settings.model_validate(data), new) == expected and notes == []


@pytest.mark.parametrize(("old", "value", "new", "expected"), CASES)
def test_an_old_key_and_its_new_one_together_are_an_error(
        old: str, value: Any, new: str, expected: Any) -> None:
    data = nested(old, value)
    *tables, key = new.split(".")
    node = data
    for table in tables:
        node = node.setdefault(table, {})
    node[key] = expected
    with pytest.raises(ConfigError, match=rf"{old} and {new} are both set.*keep {new} only"):
        upgrade(data)


def test_is_flip_averaged_true_is_the_default_and_only_asks_to_be_deleted() -> None:
    data, [note] = upgrade({"classifier": {"is_flip_averaged": True, "averaging": "flip"}})
    assert data == {"classifier": {"averaging": "flip"}}
    assert note.startswith("deprecated: classifier.is_flip_averaged: delete it")


@pytest.mark.parametrize(("old", "value", "new", "expected"), CASES)
def test_an_old_key_in_the_environment_names_the_variable_to_set(
        old: str, value: Any, new: str, expected: Any) -> None:
    name = "EMOEDGE_" + old.upper().replace(".", "__")
    data, [note] = apply_env({}, {name: str(value).lower()})
    assert get(Settings.model_validate(data), new) == expected
    assert note.startswith(f"deprecated: {name}: write EMOEDGE_"
                           f"{new.upper().replace('.', '__')} instead")


def test_the_old_prefix_works_and_names_the_new_variable() -> None:
    data, notes = apply_env({}, {"EMOTION_EDGE_MQTT__HOST": "broker.lan"})
    assert Settings.model_validate(data).mqtt.host == "broker.lan"
    assert notes == ["deprecated: EMOTION_EDGE_MQTT__HOST: write EMOEDGE_MQTT__HOST instead"]


def test_an_old_prefix_and_an_old_key_make_one_line() -> None:
    data, notes = apply_env({}, {"EMOTION_EDGE_CLASSIFIER__TTA": "flip"})
    assert data == {"classifier": {"averaging": "flip"}}
    assert notes == ["deprecated: EMOTION_EDGE_CLASSIFIER__TTA: write "
                     "EMOEDGE_CLASSIFIER__AVERAGING instead"]


def test_both_prefixes_for_one_key_are_an_error() -> None:
    with pytest.raises(ConfigError, match=r"EMOEDGE_MQTT__HOST and EMOTION_EDGE_MQTT__HOST are "
                                          r"both set.*keep EMOEDGE_MQTT__HOST only"):
        apply_env({}, {"EMOTION_EDGE_MQTT__HOST": "a", "EMOEDGE_MQTT__HOST": "b"})


def test_the_data_variables_of_the_tests_are_not_settings() -> None:
    assert apply_env({}, {"EMOEDGE_FER2013": "/data/fer2013.npz"}) == ({}, [])


def test_the_environment_overrides_a_file_whatever_the_names(tmp_path: Path) -> None:
    """Each layer is renamed on its own, so an old name in the environment still wins over
    the new one in the file."""
    path = tmp_path / "c.toml"
    path.write_text('[classifier]\naveraging = "crops"\n')
    data, [note] = read_config(path, {"EMOEDGE_CLASSIFIER__TTA": "none"})
    assert data["classifier"] == {"averaging": "none"} and "EMOEDGE_CLASSIFIER__TTA" in note


def test_a_config_copied_from_the_old_example_loads_with_a_line_per_old_key(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="edge.config"):
        loaded = load_settings(BEFORE, environ={})
    assert loaded == Settings(device_id=socket.gethostname())
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["deprecated: camera: write source instead",
                     "deprecated: classifier.is_flip_averaged: delete it (classifier.averaging "
                     "= \"none\" is what false meant; true, the default, is the model's own "
                     "averaging)",
                     "deprecated: trigger.min_interval_s: write worker.min_interval_s instead",
                     "deprecated: trigger.queue_size: write worker.queue_size instead",
                     "deprecated: trigger.capture_timeout_s: write worker.capture_timeout_s "
                     "instead"]
