"""The MQTT settings: broker, TLS, Home Assistant discovery and the result spool. No paho
import, so `edge.config` composes them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from edge.config_base import StrictConfig


class TlsConfig(StrictConfig):
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


class DiscoveryConfig(StrictConfig):
    is_enabled: bool = Field(True, description="publish Home Assistant MQTT discovery")
    prefix: str = Field(
        "homeassistant", min_length=1, description="Home Assistant discovery prefix")


class SpoolConfig(StrictConfig):
    path: Path | None = Field(
        None, description="SQLite spool; default: $STATE_DIRECTORY/spool.sqlite or ./spool.sqlite")
    max_results: int = Field(10_000, ge=1, description="oldest results beyond this are dropped")
    max_age_s: float = Field(7 * 24 * 3600, gt=0, description="results older than this are dropped")
    write_after_s: float = Field(
        2.0, ge=0, description="a result the broker has not acknowledged after this long is "
        "written to the SD card (fsynced), at once while the broker is away. A power cut or "
        "kill -9 loses at most the unacknowledged results of the last write_after_s "
        "seconds; 0 writes every result before sending it (no loss, most card wear)")


class MqttConfig(StrictConfig):
    host: str = Field("localhost", min_length=1, description="broker host name or address")
    port: int = Field(1883, ge=1, le=65535, description="broker port")
    topic_prefix: str = Field("emotion-edge", min_length=1, description="first topic level")
    username: str | None = Field(None, description="user name; the password is a secret")
    password_file: Path | None = Field(
        None,
        description="file holding the password; default: $CREDENTIALS_DIRECTORY/mqtt-password")
    password: SecretStr | None = Field(
        None, description="password from $EMOEDGE_MQTT__PASSWORD when no file is used; "
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
