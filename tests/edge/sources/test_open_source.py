"""`open_source` picks the backend named by `source.kind`, behind a `ReopeningSource`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.errors import SourceError
from edge.sources import open_source
from edge.sources.config import ImagesConfig, OpenCvConfig, PicameraConfig
from edge.sources.images import ImageFolderSource
from edge.sources.opencv import OpenCvSource
from edge.sources.reopening import ReopeningSource


def test_images(image_dir: Path) -> None:
    source = open_source(ImagesConfig(path=image_dir, is_looping=False))
    assert isinstance(source, ReopeningSource)
    assert isinstance(source.backend, ImageFolderSource) and len(source.backend) == 3


def test_opencv(write_video: Callable[[int], Path]) -> None:
    source = open_source(OpenCvConfig(device=str(write_video(1))))
    assert isinstance(source, ReopeningSource)
    try:
        assert isinstance(source.backend, OpenCvSource)
    finally:
        source.close()


def test_picamera_off_a_pi_is_a_camera_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)
    with pytest.raises(SourceError, match="picamera2"):
        open_source(PicameraConfig())
