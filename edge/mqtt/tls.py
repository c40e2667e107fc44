"""TLS for the MQTT client: files checked at start-up, so a missing or unusable one is a
BrokerError that names it rather than a handshake failing on every retry."""

from __future__ import annotations

import logging
from pathlib import Path

import paho.mqtt.client as mqtt

from edge.errors import BrokerError
from edge.mqtt.config import TlsConfig

log = logging.getLogger(__name__)


def use_tls(client: mqtt.Client, tls: TlsConfig) -> None:
    """Make `client` connect with TLS as `tls` says; BrokerError when a file is missing
    or unusable."""
    files = [p for p in (tls.ca_file, tls.cert_file, tls.key_file) if p is not None]
    for path in files:
        if not path.is_file():
            raise BrokerError(f"TLS file {path} not found; check mqtt.tls.*_file")
    try:
        client.tls_set(ca_certs=_str(tls.ca_file), certfile=_str(tls.cert_file),
                       keyfile=_str(tls.key_file))
    except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
        raise BrokerError(f"unusable TLS files ({', '.join(map(str, files))}): {e}") from e
    if tls.is_insecure:
        log.warning("mqtt.tls.is_insecure: the broker's host name is NOT verified")
        client.tls_insecure_set(True)


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)
