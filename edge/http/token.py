"""The HTTP token: read like the MQTT password (a file, else a systemd credential), and the
rule that only a loopback listener may go without one."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path

from edge.errors import ConfigError
from edge.http.config import HttpConfig

TOKEN_CREDENTIAL = "http-token"
MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost`: only this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def read_token(cfg: HttpConfig, environ: Mapping[str, str]) -> str | None:
    """http.token_file, else $CREDENTIALS_DIRECTORY/http-token, else None. ConfigError when
    the file cannot be read, is too short, or a non-loopback host has no token. Never logged."""
    path = cfg.token_file
    if path is None and environ.get("CREDENTIALS_DIRECTORY"):
        candidate = Path(environ["CREDENTIALS_DIRECTORY"]) / TOKEN_CREDENTIAL
        path = candidate if candidate.exists() else None
    token = None
    if path is not None:
        try:
            token = path.read_text(encoding="utf-8").strip() or None
        except OSError as e:
            raise ConfigError(f"cannot read the HTTP token file {path}: {e.strerror}; check "
                              "http.token_file and its permissions") from e
        if token is not None and len(token) < MIN_TOKEN_CHARS:
            raise ConfigError(f"the HTTP token in {path} has {len(token)} characters; use at "
                              f"least {MIN_TOKEN_CHARS} (e.g. `openssl rand -hex 16 > {path}`)")
    if token is None and not is_loopback(cfg.host):
        raise ConfigError(
            f"http.host = {cfg.host!r} lets other machines connect, so it needs a token: put "
            "one in a file (`openssl rand -hex 16`) and set http.token_file, or hand it over "
            "as the systemd credential `http-token`; or keep http.host = \"127.0.0.1\"")
    return token
