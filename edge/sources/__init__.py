"""Frame sources, one backend per file; `open_source` picks one from the config and
`check_source` runs its start-up checks that hold no device."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge.config import ImagesConfig, OpenCvConfig, PicameraConfig
from edge.ports import FrameSource


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


def _check_opencv(cfg: Any) -> None:
    from edge.sources.opencv import check_device

    check_device(cfg)


def _check_images(cfg: Any) -> None:
    _images(cfg).close()  # lists the files and holds nothing open


_CHECKS: dict[str, Callable[[Any], None]] = {
    "images": _check_images, "opencv": _check_opencv,
    "picamera": lambda cfg: None}  # only opening the camera checks it, and that holds it


def check_source(cfg: PicameraConfig | OpenCvConfig | ImagesConfig) -> None:
    """The checks `open_source` makes before it holds a device; CameraError if one fails."""
    _CHECKS[cfg.kind](cfg)
