"""The `[http]` settings: the opt-in local page, /metrics and /healthz. No server import, so
`edge.config` composes them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edge.config_base import StrictConfig


class HttpConfig(StrictConfig):
    is_enabled: bool = Field(
        False, description="serve the camera page (/), /metrics and /healthz; off: nothing listens")
    host: str = Field(
        "127.0.0.1", min_length=1,
        description="address to listen on; anything but loopback needs a token")
    port: int = Field(8091, ge=1, le=65535, description="TCP port to listen on")
    token_file: Path | None = Field(
        None, description="file holding the bearer token clients must send; default: "
        "$CREDENTIALS_DIRECTORY/http-token; required unless host is loopback")
