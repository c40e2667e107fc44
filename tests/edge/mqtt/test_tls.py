"""TLS files are checked when the client is built: a bad one is a BrokerError naming it."""

from __future__ import annotations

import logging
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.errors import BrokerError
from edge.mqtt.config import TlsConfig
from edge.mqtt.tls import use_tls
from tests.fixtures.broker import make_certificates


def client() -> mqtt.Client:
    return mqtt.Client(CallbackAPIVersion.VERSION2)


def test_a_file_that_is_no_certificate_is_named(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("not a certificate\n")
    with pytest.raises(BrokerError, match=r"unusable TLS files \(.*ca\.crt\)"):
        use_tls(client(), TlsConfig(is_enabled=True, ca_file=ca))


def test_skipping_the_host_name_check_is_said(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    files = make_certificates(tmp_path)
    caplog.set_level(logging.WARNING)
    use_tls(client(), TlsConfig(is_enabled=True, ca_file=files.ca, is_insecure=True))
    assert "host name is NOT verified" in caplog.text
