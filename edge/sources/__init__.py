"""Frame sources, one backend per file, and `open_source` to pick one from the config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge.config import ImagesConfig, OpenCvConfig, PicameraConfig
from edge.errors import CameraError
from edge.ports import FrameSource


class SourceExhausted(CameraError):
    """A replayed video or image list has no more frames and is not looping."""


def _images(cfg: Any) -> FrameSource:
    from edge.sources.images import ImageFolderSource

    return ImageFolderSource(cfg.path, is_looping=cfg.is_looping)


def _opencv(cfg: Any) -> FrameSource:
    from edge.sources.opencv import OpenCvSource

    return OpenCvSource(cfg)


def _picamera(cfg: Any) -> FrameSource:
    from edge.sources.picamera import PicameraSource

    return PicameraSource(cfg)


_BACKENDS: dict[str, Callable[[Any], FrameSource]] = {
    "images": _images, "opencv": _opencv, "picamera": _picamera}


def open_source(cfg: PicameraConfig | OpenCvConfig | ImagesConfig) -> FrameSource:
    """Open the frame source `cfg.kind` names; the caller closes it."""
    return _BACKENDS[cfg.kind](cfg)
