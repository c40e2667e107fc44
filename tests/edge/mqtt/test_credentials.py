"""The MQTT password's sources and their order."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.errors import BrokerError
from edge.mqtt.config import MqttConfig
from edge.mqtt.credentials import read_password


def test_password_sources_in_order(tmp_path: Path) -> None:
    file = tmp_path / "pw"
    file.write_text("from-file\n")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mqtt-password").write_text("from-creds")
    env = {"CREDENTIALS_DIRECTORY": str(creds)}
    assert read_password(MqttConfig(password_file=file, password="x"), env) == "from-file"
    assert read_password(MqttConfig(password="from-env"), env) == "from-creds"
    assert read_password(MqttConfig(password="from-env"), {}) == "from-env"
    assert read_password(MqttConfig(), {}) is None
    with pytest.raises(BrokerError, match="password_file"):
        read_password(MqttConfig(password_file=tmp_path / "missing"), {})
