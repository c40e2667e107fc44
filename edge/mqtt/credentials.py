"""The MQTT password, from a file systemd or the user provides, else the environment. It is
never logged, and never read from the committed TOML."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from edge.errors import BrokerError
from edge.mqtt.config import MqttConfig

PASSWORD_CREDENTIAL = "mqtt-password"  # the name in the unit's LoadCredential=


def read_password(cfg: MqttConfig, environ: Mapping[str, str]) -> str | None:
    """mqtt.password_file, else $CREDENTIALS_DIRECTORY/mqtt-password, else the
    EMOEDGE_MQTT__PASSWORD setting. BrokerError when the file cannot be read."""
    path = cfg.password_file
    if path is None and environ.get("CREDENTIALS_DIRECTORY"):
        candidate = Path(environ["CREDENTIALS_DIRECTORY"]) / PASSWORD_CREDENTIAL
        path = candidate if candidate.exists() else None
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as e:
            raise BrokerError(f"cannot read the MQTT password file {path}: {e.strerror}; "
                              "check mqtt.password_file and its permissions") from e
    return cfg.password.get_secret_value() if cfg.password is not None else None
