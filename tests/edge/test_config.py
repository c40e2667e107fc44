"""Config: start from a minimal dict and change one key per test."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from edge.config import Settings, apply_env, config_problems, load_settings, read_toml
from edge.errors import ConfigError

MINIMAL: dict[str, Any] = {"device_id": "pi-1", "source": {"kind": "images", "path": "faces"}}


def minimal() -> dict[str, Any]:
    return copy.deepcopy(MINIMAL)


def test_minimal_is_valid_and_fills_defaults() -> None:
    assert config_problems(minimal()) == []
    settings = Settings.model_validate(minimal())
    assert settings.source.kind == "images" and settings.detector.kind == "auto"


@pytest.mark.parametrize(("table", "kind"), [
    ({}, "auto"),
    ({"min_face_px": 64}, "auto"),
    ({"scale_factor": 1.3, "min_face_px": 64}, "haar"),  # a v0.2 table: Haar keys, no kind
    ({"cascade_path": "/x.xml"}, "haar"),
    ({"kind": "haar", "detect_width_px": 320}, "haar"),  # the v0.2 example config
    ({"kind": "yunet", "score_threshold": 0.8}, "yunet"),
])
def test_detector_tables_of_today_and_before_pick_their_backend(
        table: dict[str, Any], kind: str) -> None:
    data = minimal()
    data["detector"] = table
    assert Settings.model_validate(data).detector.kind == kind


def test_a_haar_key_under_yunet_is_named() -> None:
    data = minimal()
    data["detector"] = {"kind": "yunet", "min_neighbors": 3}
    [problem] = config_problems(data)
    assert problem.startswith("detector.min_neighbors = 3:") and "not permitted" in problem


def test_unknown_nested_key_is_named_with_its_dotted_path() -> None:
    data = minimal()
    data["mqtt"] = {"hots": "broker"}
    [problem] = config_problems(data)
    assert problem.startswith("mqtt.hots = 'broker'") and "not permitted" in problem


def test_unknown_key_in_a_source_variant_has_no_kind_tag_in_its_path() -> None:
    data = minimal()
    data["source"] = {"kind": "opencv", "devise": 0}
    [problem] = config_problems(data)
    assert problem.startswith("source.devise")


def test_the_haar_fallback_of_auto_must_accept_the_keys_it_keeps() -> None:
    data = minimal()
    data["detector"] = {"kind": "auto", "detect_width_px": 72}  # YuNet takes >= 64, Haar >= 80
    [problem] = config_problems(data)
    assert problem.startswith("detector: ") and "Haar fallback" in problem
    assert "detect_width_px: Input should be greater than or equal to 80" in problem


def test_bad_value_names_key_value_and_expectation() -> None:
    data = minimal()
    data["detector"] = {"min_face_px": 4}
    [problem] = config_problems(data)
    assert problem.startswith("detector.min_face_px = 4:") and "16" in problem


def test_env_overrides_nested_keys_and_is_parsed_by_the_model() -> None:
    env = {"EMOEDGE_MQTT__HOST": "broker.lan", "EMOEDGE_MQTT__PORT": "8883",
           "OTHER_MQTT__HOST": "ignored"}
    data, notes = apply_env(minimal(), env)
    settings = Settings.model_validate(data)
    assert (settings.mqtt.host, settings.mqtt.port) == ("broker.lan", 8883) and notes == []


def test_env_override_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('device_id = "pi-1"\n[detector]\nmin_face_px = 64\n')
    settings = load_settings(path, {"EMOEDGE_DETECTOR__MIN_FACE_PX": "80"})
    assert settings.detector.min_face_px == 80


def test_tls_cert_without_key_is_rejected() -> None:
    data = minimal()
    data["mqtt"] = {"tls": {"is_enabled": True, "cert_file": "/etc/client.crt"}}
    [problem] = config_problems(data)
    assert problem.startswith("mqtt.tls") and "cert_file and key_file go together" in problem


def test_bad_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[mqtt\nhost = 1\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        read_toml(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        read_toml(tmp_path / "absent.toml")


def test_load_settings_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('device_id = "pi-1"\n[detector]\nmin_face_px = 4\n[mqtt]\nport = 0\n')
    with pytest.raises(ConfigError, match="2 problem") as caught:
        load_settings(path, {})
    assert "detector.min_face_px" in str(caught.value) and "mqtt.port" in str(caught.value)


@pytest.mark.parametrize(("host", "expected"), [
    ("raspberrypi", "raspberrypi"), ("pi.local", "pi"), ("kitchen cam", "kitchen-cam"),
    ("...", "emotion-edge")])
def test_default_device_id_is_a_valid_topic_level(host: str, expected: str) -> None:
    from edge.config import Settings, default_device_id

    assert default_device_id(host) == expected
    Settings.model_validate({"device_id": default_device_id(host)})


# Loads the example config in a fresh interpreter where importing a vendor library fails,
# and prints what was asked for and which edge modules were loaded.
_WITHOUT_VENDORS = textwrap.dedent("""
    import importlib.abc, json, sys
    from pathlib import Path

    VENDORS = {"cv2", "numpy", "picamera2", "gpiozero", "paho", "ai_edge_litert",
               "tflite_runtime", "tensorflow"}
    asked = []

    class Absent(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.partition(".")[0] in VENDORS:
                asked.append(name)
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Absent())
    from edge.config import config_problems, load_settings, read_toml

    settings = load_settings(Path(sys.argv[1]), environ={})
    print(json.dumps({"asked": asked, "problems": config_problems(read_toml(Path(sys.argv[1]))),
                      "kinds": [settings.source.kind, settings.detector.kind],
                      "edge": sorted(m for m in sys.modules if m.startswith("edge."))}))
""")


def test_a_config_loads_with_no_opencv_and_imports_no_backend(repo_root: Path) -> None:
    """`check-config` and the config reference need no OpenCV: loading the example config
    never asks for a vendor library (not even numpy), and of emotion-edge it loads only the
    config layer: each role's package and its `config.py`, never a backend."""
    example = repo_root / "systemd" / "config.example.toml"
    run = subprocess.run([sys.executable, "-c", _WITHOUT_VENDORS, str(example)],
                         capture_output=True, text=True, cwd=repo_root, check=False)
    assert run.returncode == 0, run.stderr
    loaded = json.loads(run.stdout)
    assert loaded["asked"] == [] and loaded["problems"] == []
    assert loaded["kinds"] == ["picamera", "auto"]
    core = {"edge.config", "edge.config_base", "edge.deprecations", "edge.errors",
            "edge.registry"}
    roles = {"edge.classify", "edge.continuous", "edge.detect", "edge.mqtt", "edge.sources",
             "edge.triggers", "edge.http"}
    assert set(loaded["edge"]) == core | roles | {f"{role}.config" for role in roles}


def test_each_config_class_is_imported_from_its_home_only(repo_root: Path) -> None:
    """One import path per config class: the module that defines it (a role's `config.py`,
    or `edge.config` for `Settings` and `WorkerConfig`), never a module that imports it."""
    import ast
    import importlib

    elsewhere = []
    for folder in ("edge", "trainer", "benchmarks", "scripts", "tests"):
        for path in sorted((repo_root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.ImportFrom) and node.module
                        and node.module.startswith("edge")):
                    continue
                module = importlib.import_module(node.module)
                for alias in node.names:
                    found = getattr(module, alias.name, None)
                    home = getattr(found, "__module__", node.module)
                    if alias.name.endswith("Config") and isinstance(found, type) \
                            and home != node.module:
                        elsewhere.append(f"{path.relative_to(repo_root)}: {alias.name} from "
                                         f"{node.module}, not {home}")
    assert elsewhere == []
