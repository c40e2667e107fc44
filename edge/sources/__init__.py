"""Frame sources, one backend per file; `open_source` picks one from the config and
`check_source` runs its start-up checks that hold no device.

The config classes, one per `kind`, are in `edge/sources/config.py`; `BACKENDS` names each
kind's source, imported only when it is opened. Registering a source is its config in
`AnyCameraConfig`, its file and its line in `BACKENDS` (and in `CHECKS` if it has a check).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from edge.registry import load
from edge.sources.config import AnyCameraConfig

if TYPE_CHECKING:
    from edge.ports import FrameSource

# kind -> its source's constructor, which takes that kind's config
BACKENDS: Mapping[str, str] = {
    "picamera": "edge.sources.picamera:PicameraSource",
    "opencv": "edge.sources.opencv:OpenCvSource",
    "images": "edge.sources.images:open_images",
}
# kind -> what `open_source` checks before it holds a device; a picamera is only checked by
# opening it, and that holds it
CHECKS: Mapping[str, str] = {
    "opencv": "edge.sources.opencv:check_device",
    "images": "edge.sources.images:check_images",
}


def open_source(cfg: AnyCameraConfig) -> FrameSource:
    """Open the frame source `cfg.kind` names; the caller closes it."""
    backend: Callable[[AnyCameraConfig], FrameSource] = load(BACKENDS[cfg.kind])
    return backend(cfg)


def check_source(cfg: AnyCameraConfig) -> None:
    """The checks `open_source` makes before it holds a device; CameraError if one fails."""
    if cfg.kind in CHECKS:
        check: Callable[[AnyCameraConfig], None] = load(CHECKS[cfg.kind])
        check(cfg)
