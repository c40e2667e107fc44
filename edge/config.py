"""One typed `Settings` object, loaded in three layers: TOML file -> environment -> validation.

Every key has a default that works on a Raspberry Pi with a camera module and a button on
BCM 17. Unknown keys are rejected. Secrets (the MQTT password) never live in the TOML:
they come from `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`) or the environment.

`Settings` composes each role's config module (`edge/sources/config.py`,
`edge/detect/config.py`, `edge/classify/config.py`, `edge/triggers/config.py`,
`edge/mqtt/config.py`, `edge/http/config.py`), which import no backend: loading a config
imports no OpenCV, picamera2, LiteRT, gpiozero, paho or waitress. Every config class is
imported from its role's `config.py`, its one home; this module holds `Settings` and the
worker's settings only.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from edge.classify.config import ClassifierConfig
from edge.config_base import StrictConfig
from edge.deprecations import DROP, OLD_ENV_PREFIX, upgrade, upgrade_env
from edge.detect.config import DetectorConfig, default_detector_config
from edge.errors import ConfigError
from edge.http.config import HttpConfig
from edge.mqtt.config import MqttConfig
from edge.registry import kinds_of
from edge.sources.config import PicameraConfig, SourceConfig
from edge.triggers.config import TriggerConfig

ENV_PREFIX = "EMOEDGE_"
# EMOEDGE_ variables that are not settings: data paths and switches of the trainer, the tests
# and the benchmarks
NOT_SETTINGS = frozenset({"EMOEDGE_FER2013", "EMOEDGE_FERPLUS", "EMOEDGE_FACES_DEV",
                          "EMOEDGE_HARDWARE"})

log = logging.getLogger(__name__)


def default_device_id(host_name: str) -> str:
    """`pi.local` -> `pi`: a topic level may not hold MQTT wildcards, and dots confuse people."""
    short = re.sub(r"[^A-Za-z0-9_-]", "-", host_name.split(".")[0]).strip("-")
    return short or "emotion-edge"


class WorkerConfig(StrictConfig):
    """The one worker thread that runs every capture (`edge/worker.py`)."""

    min_interval_s: float = Field(0.5, ge=0, description="triggers closer than this are merged")
    queue_size: int = Field(8, ge=1, description="pending captures kept; more are dropped")
    capture_timeout_s: float = Field(
        10.0, gt=0, description="a capture (frame, faces, emotions) not done after this long "
        "is answered with a camera error result; keep it below the unit's WatchdogSec=")


class Settings(StrictConfig):
    device_id: str = Field(default_factory=lambda: default_device_id(socket.gethostname()),
                           pattern=r"^[A-Za-z0-9_-]+$",
                           description="second topic level; default: the host name")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    source: SourceConfig = Field(default_factory=PicameraConfig)
    detector: DetectorConfig = Field(default_factory=default_detector_config)
    classifier: ClassifierConfig = ClassifierConfig()
    trigger: TriggerConfig = TriggerConfig()
    worker: WorkerConfig = WorkerConfig()
    mqtt: MqttConfig = MqttConfig()
    http: HttpConfig = HttpConfig()


def read_toml(path: Path | None) -> dict[str, Any]:
    """Layer 1: the file, or nothing when no file is given."""
    if path is None:
        return {}
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as e:
        raise ConfigError(f"config file not found: {path} (check --config)") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e


def apply_env(data: dict[str, Any],
              environ: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Layer 2: EMOEDGE_MQTT__HOST=broker sets mqtt.host (values parsed by pydantic). Also
    the lines for old names used (`edge.deprecations`); ConfigError when two variables set
    one key."""
    merged: dict[str, Any] = {k: v for k, v in data.items()}
    notes: list[str] = []
    setters: dict[tuple[str, ...], str] = {}
    for name, raw in sorted(environ.items()):
        prefix = next((p for p in (ENV_PREFIX, OLD_ENV_PREFIX) if name.startswith(p)), None)
        if prefix is None or name in NOT_SETTINGS:
            continue
        keys, value, note = upgrade_env(name, name[len(prefix):].lower().split("__"), raw,
                                        ENV_PREFIX)
        notes += [note] if note else []
        if value is DROP:
            continue
        if tuple(keys) in setters:
            raise ConfigError(f"{setters[tuple(keys)]} and {name} are both set: they are the "
                              f"same setting; keep {ENV_PREFIX}{'__'.join(keys).upper()} only")
        setters[tuple(keys)] = name
        node = merged
        for key in keys[:-1]:
            child = node.get(key)
            node[key] = dict(child) if isinstance(child, dict) else {}
            node = node[key]
        node[keys[-1]] = value
    return merged, notes


def read_config(path: Path | None,
                environ: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Layers 1 and 2 with old names moved to their new ones: the data to validate, and one
    line per old name used (the daemon logs them, `check-config` prints them)."""
    data, notes = upgrade(read_toml(path))
    data, env_notes = apply_env(data, environ)
    return data, notes + env_notes


def config_problems(data: Mapping[str, Any]) -> list[str]:
    """One line per problem: dotted key, the bad value, what is expected. Empty if valid."""
    try:
        Settings.model_validate(data)
    except ValidationError as e:
        return [_describe(err) for err in e.errors()]
    return []


def _describe(err: Any) -> str:
    path = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and p in _KINDS))
    value = err.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    return f"{path or '<root>'}{shown}: {err['msg']}"


# pydantic puts the variant's kind in an error's location; a dotted key leaves it out
_KINDS = {*kinds_of(SourceConfig), *kinds_of(DetectorConfig)}


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """All three layers; a ConfigError lists every problem, one per line. Old names used are
    logged, one WARNING line each."""
    data, deprecated = read_config(path, os.environ if environ is None else environ)
    for line in deprecated:
        log.warning("%s", line)
    problems = config_problems(data)
    if problems:
        where = f"{path}" if path else "configuration"
        raise ConfigError(f"{where}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return Settings.model_validate(data)


__all__ = ["ENV_PREFIX", "NOT_SETTINGS", "Settings", "WorkerConfig", "apply_env",
           "config_problems", "default_device_id", "load_settings", "read_config", "read_toml"]
