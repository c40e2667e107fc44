"""PicameraSource off a Pi: the constructor explains how to install picamera2."""

from __future__ import annotations

import sys

import pytest

from edge.errors import SourceError
from edge.sources.config import PicameraConfig
from edge.sources.picamera import PicameraSource


def test_without_picamera2_the_error_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import picamera2 -> ImportError
    with pytest.raises(SourceError) as caught:
        PicameraSource(PicameraConfig())
    message = str(caught.value)
    assert "apt install python3-picamera2" in message and "--system-site-packages" in message

