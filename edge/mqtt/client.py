"""paho's client as the connection uses it: built with the last will, the credentials, TLS
and the reconnect backoff, and keeping why its last connection attempt failed, in words
that say what to check."""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from edge.mqtt.config import MqttConfig
from edge.mqtt.credentials import read_password
from edge.mqtt.tls import use_tls


class PahoClient(mqtt.Client):
    """paho's client, keeping why the last connection attempt failed: paho's network loop
    swallows the OSError (a TLS verification failure, a refused port) and calls
    `on_connect_fail` without it."""

    last_connect_error: OSError | None = None

    def reconnect(self) -> MQTTErrorCode:
        try:
            return super().reconnect()
        except OSError as e:
            self.last_connect_error = e
            raise


def make_client(cfg: MqttConfig, client_id: str, will_topic: str,
                environ: Mapping[str, str]) -> PahoClient:
    """A client, not connected, that leaves `offline` (retained) on `will_topic` when it
    goes without a clean stop. BrokerError when the password or TLS files are unusable."""
    client = PahoClient(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.will_set(will_topic, "offline", qos=1, retain=True)
    password = read_password(cfg, environ)
    if cfg.username is not None:
        client.username_pw_set(cfg.username, password)
    if cfg.tls.is_enabled:
        use_tls(client, cfg.tls)
    client.reconnect_delay_set(cfg.reconnect_min_s,  # type: ignore[arg-type]
                               cfg.reconnect_max_s)  # type: ignore[arg-type]
    client.suppress_exceptions = True  # paho's own last line of defence, behind our guard
    return client


def describe_connect_error(error: OSError | None, is_tls: bool) -> str:
    """A one-line reason for a failed connection attempt, naming TLS faults as such."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return (f"TLS certificate check failed: {error.reason}: {error.verify_message} "
                "(check mqtt.tls.ca_file is the CA that signed the broker's certificate and "
                "mqtt.host is a name in that certificate)")
    if isinstance(error, ssl.SSLError):
        return (f"TLS handshake failed: {error.reason or error} (check mqtt.port is the "
                "broker's TLS listener and mqtt.tls.* matches the broker's certificates)")
    if error is None:
        return "connection failed"
    if is_tls and isinstance(error, ConnectionResetError | BrokenPipeError):
        # after the TCP connect, a TLS client's first act is the handshake
        return ("connection reset during the TLS handshake (check mqtt.port is the broker's "
                "TLS listener, not a plain one)")
    return error.strerror or str(error) or type(error).__name__
