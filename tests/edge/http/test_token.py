"""The token rule: loopback may go without one, anything else needs one; check-config says
so. Files and credentials read like the MQTT password."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.cli import main
from edge.errors import ConfigError
from edge.http.config import HttpConfig
from edge.http.token import is_loopback, read_token

TOKEN = "0123456789abcdef0123"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "localhost"])
def test_loopback_hosts_need_no_token(host: str) -> None:
    assert is_loopback(host)
    assert read_token(HttpConfig(host=host), {}) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "pi.local"])
def test_any_other_host_without_a_token_is_refused_with_the_fix(host: str) -> None:
    with pytest.raises(ConfigError, match=r"needs a token: .*http.token_file.*http-token"):
        read_token(HttpConfig(host=host), {})


def test_token_file_then_credential(tmp_path: Path) -> None:
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "http-token").write_text(TOKEN + "\n")
    (tmp_path / "mine").write_text("f" * 20)
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")}
    assert read_token(HttpConfig(host="0.0.0.0"), env) == TOKEN
    assert read_token(HttpConfig(host="0.0.0.0", token_file=tmp_path / "mine"), env) == "f" * 20


def test_short_and_unreadable_tokens_are_errors(tmp_path: Path) -> None:
    (tmp_path / "short").write_text("abc")
    with pytest.raises(ConfigError, match="has 3 characters; use at least 16"):
        read_token(HttpConfig(token_file=tmp_path / "short"), {})
    with pytest.raises(ConfigError, match="cannot read the HTTP token file"):
        read_token(HttpConfig(token_file=tmp_path / "absent"), {})


def test_check_config_refuses_a_public_host_without_a_token(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: Path) -> None:
    path = tmp_path / "config.toml"
    base = f'[classifier]\nmodel_path = "{tiny_model}"\n[http]\nis_enabled = true\n'
    path.write_text(base + 'host = "0.0.0.0"\n')
    assert main(["check-config", "--config", str(path)]) == 1
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("http: http.host = '0.0.0.0' lets other machines connect")
    (tmp_path / "token").write_text(TOKEN)
    path.write_text(base + f'host = "0.0.0.0"\ntoken_file = "{tmp_path / "token"}"\n')
    assert main(["check-config", "--config", str(path)]) == 0
    assert capsys.readouterr().out.strip().endswith(": OK")
