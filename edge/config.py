"""One typed `Settings` object, loaded in three layers: TOML file -> environment -> validation.

Every key has a default that works on a Raspberry Pi with a camera module and a button on
BCM 17. Unknown keys are rejected. Secrets (the MQTT password) never live in the TOML:
they come from `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`) or the environment.
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator

from edge.config_base import StrictConfig as _Strict
from edge.detect import DETECTOR_KINDS, DetectorConfig, default_detector_config
from edge.errors import ConfigError

ENV_PREFIX = "EMOTION_EDGE_"


class PicameraConfig(_Strict):
    kind: Literal["picamera"] = "picamera"
    camera_num: int = Field(0, ge=0, description="libcamera camera index")
    width_px: int = Field(640, ge=64, description="frame width")
    height_px: int = Field(480, ge=64, description="frame height")


class OpenCvConfig(_Strict):
    kind: Literal["opencv"] = "opencv"
    device: int | str = Field(
        0, description="USB camera index, /dev/videoN, stream URL or video file")
    width_px: int = Field(640, ge=64, description="requested frame width")
    height_px: int = Field(480, ge=64, description="requested frame height")
    is_looping: bool = Field(False, description="restart a video file at its end")
    timeout_s: float = Field(5.0, gt=0, description="give up on a frame read after this long")


class ImagesConfig(_Strict):
    kind: Literal["images"] = "images"
    path: Path = Field(description="an image file or a folder of images, replayed in name order")
    is_looping: bool = Field(True, description="start again after the last image")


CameraConfig = Annotated[PicameraConfig | OpenCvConfig | ImagesConfig, Field(discriminator="kind")]


class ClassifierConfig(_Strict):
    kind: Literal["tflite"] = "tflite"
    model_path: Path | None = Field(
        None,
        description="int8 .tflite with its .json sidecar beside it; default: the shipped model")
    tta: Literal["none", "flip", "crops"] | None = Field(
        None, description="test-time averaging: none (1 invoke), flip (+ mirror, 2), crops "
        "(+ 3 px shifts of both, 10), for triggered captures (button, MQTT, interval); "
        "default: the model sidecar's averaging.default")
    continuous_tta: Literal["none", "flip", "crops"] | None = Field(
        None, description="test-time averaging in continuous mode, where each frame's cost "
        "repeats; default: the model sidecar's averaging.continuous")
    is_flip_averaged: bool = Field(
        True, description="false turns averaging off when tta is not set (older key; "
        "prefer tta)")
    num_threads: int = Field(1, ge=1, le=8, description="LiteRT interpreter threads")
    is_xnnpack_enabled: bool = Field(
        True, description="run the model with LiteRT's XNNPACK delegate (fast); false uses "
        "the built-in kernels, for a runtime whose XNNPACK fails the model's golden vectors")


class ButtonConfig(_Strict):
    is_enabled: bool = Field(True, description="capture when a GPIO button is pressed")
    pin: int = Field(17, ge=0, le=27, description="BCM pin of the button (wired to ground)")
    bounce_s: float = Field(0.05, ge=0, description="debounce time")
    led_pin: int | None = Field(
        None, ge=0, le=27, description="BCM pin of an LED lit while capturing")


class ContinuousConfig(_Strict):
    is_enabled: bool = Field(False, description="classify frames continuously, no trigger needed")
    max_fps: float = Field(5.0, gt=0, description="cap on frames per second")
    window_frames: int = Field(5, ge=1, description="scores are averaged over this many frames")
    heartbeat_s: float = Field(
        60.0, gt=0, description="publish at least this often, even unchanged")


class TriggerConfig(_Strict):
    button: ButtonConfig = ButtonConfig()
    is_mqtt_enabled: bool = Field(True, description="capture on <prefix>/<device>/capture/set")
    interval_s: float | None = Field(None, gt=0, description="also capture every N seconds")
    continuous: ContinuousConfig = ContinuousConfig()
    min_interval_s: float = Field(0.5, ge=0, description="triggers closer than this are merged")
    queue_size: int = Field(8, ge=1, description="pending captures kept; more are dropped")
    capture_timeout_s: float = Field(
        10.0, gt=0, description="a capture (frame, faces, emotions) not done after this long "
        "is answered with a camera error result; keep it below the unit's WatchdogSec=")


class TlsConfig(_Strict):
    is_enabled: bool = Field(False, description="connect with TLS")
    ca_file: Path | None = Field(None, description="CA certificate; default: the system store")
    cert_file: Path | None = Field(None, description="client certificate (mutual TLS)")
    key_file: Path | None = Field(None, description="client key (mutual TLS)")
    is_insecure: bool = Field(False, description="skip host-name verification (testing only)")

    @model_validator(mode="after")
    def _cert_needs_key(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: set both or neither")
        return self


class DiscoveryConfig(_Strict):
    is_enabled: bool = Field(True, description="publish Home Assistant MQTT discovery")
    prefix: str = Field(
        "homeassistant", min_length=1, description="Home Assistant discovery prefix")


class SpoolConfig(_Strict):
    path: Path | None = Field(
        None, description="SQLite spool; default: $STATE_DIRECTORY/spool.sqlite or ./spool.sqlite")
    max_results: int = Field(10_000, ge=1, description="oldest results beyond this are dropped")
    max_age_s: float = Field(7 * 24 * 3600, gt=0, description="results older than this are dropped")


class MqttConfig(_Strict):
    host: str = Field("localhost", min_length=1, description="broker host name or address")
    port: int = Field(1883, ge=1, le=65535, description="broker port")
    topic_prefix: str = Field("emotion-edge", min_length=1, description="first topic level")
    username: str | None = Field(None, description="user name; the password is a secret")
    password_file: Path | None = Field(
        None,
        description="file holding the password; default: $CREDENTIALS_DIRECTORY/mqtt-password")
    password: SecretStr | None = Field(
        None, description="password from $EMOTION_EDGE_MQTT__PASSWORD when no file is used; "
        "keep it out of the TOML")
    keepalive_s: int = Field(30, ge=5, description="MQTT keepalive")
    reconnect_min_s: float = Field(1.0, gt=0, description="first reconnect delay")
    reconnect_max_s: float = Field(60.0, gt=0, description="longest reconnect delay")
    max_disconnected_s: float = Field(
        600.0, gt=0, description="not connected this long while results wait in the spool: "
        "report it in STATUS= and stop the watchdog pings, so systemd restarts the daemon")
    tls: TlsConfig = TlsConfig()
    discovery: DiscoveryConfig = DiscoveryConfig()
    is_snapshot_enabled: bool = Field(False, description="publish a JPEG of each capture")
    spool: SpoolConfig = SpoolConfig()

    @model_validator(mode="after")
    def _backoff_order(self) -> MqttConfig:
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        return self


def default_device_id(host_name: str) -> str:
    """`pi.local` -> `pi`: a topic level may not hold MQTT wildcards, and dots confuse people."""
    short = re.sub(r"[^A-Za-z0-9_-]", "-", host_name.split(".")[0]).strip("-")
    return short or "emotion-edge"


class Settings(_Strict):
    device_id: str = Field(default_factory=lambda: default_device_id(socket.gethostname()),
                           pattern=r"^[A-Za-z0-9_-]+$",
                           description="second topic level; default: the host name")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    camera: CameraConfig = Field(default_factory=PicameraConfig)
    detector: DetectorConfig = Field(default_factory=default_detector_config)
    classifier: ClassifierConfig = ClassifierConfig()
    trigger: TriggerConfig = TriggerConfig()
    mqtt: MqttConfig = MqttConfig()


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


def apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Layer 2: EMOTION_EDGE_MQTT__HOST=broker sets mqtt.host (values parsed by pydantic)."""
    merged: dict[str, Any] = {k: v for k, v in data.items()}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = name[len(ENV_PREFIX):].lower().split("__")
        node = merged
        for key in keys[:-1]:
            child = node.get(key)
            node[key] = dict(child) if isinstance(child, dict) else {}
            node = node[key]
        node[keys[-1]] = value
    return merged


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


_KINDS = {"picamera", "opencv", "images", *DETECTOR_KINDS}


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """All three layers; a ConfigError lists every problem, one per line."""
    data = apply_env(read_toml(path), os.environ if environ is None else environ)
    problems = config_problems(data)
    if problems:
        where = f"{path}" if path else "configuration"
        raise ConfigError(f"{where}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return Settings.model_validate(data)
