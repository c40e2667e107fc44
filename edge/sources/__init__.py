"""Frame sources, one backend per file; `open_source` opens the one the config names (the
one place a source is opened) and `check_source` runs its start-up checks that hold no device.

The config classes, one per `kind`, are in `edge/sources/config.py`; `BACKENDS` names each
kind's source, imported only when it is opened. Registering a source is its config in
`SourceConfig`, its file and its line in `BACKENDS` (and in `CHECKS` if it has a check).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from edge.registry import load
from edge.sources.config import SourceConfig

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


def open_source(cfg: SourceConfig) -> FrameSource:
    """Open the frame source `cfg.kind` names, wrapped to reopen itself when the camera goes
    away (`ReopeningSource`); SourceError when it cannot open. The caller closes it."""
    from edge.sources.reopening import ReopeningSource

    def open_backend() -> FrameSource:
        backend: Callable[[SourceConfig], FrameSource] = load(BACKENDS[cfg.kind])
        return backend(cfg)

    return ReopeningSource(open_backend, open_backend())


def check_source(cfg: SourceConfig) -> None:
    """The checks `open_source` makes before it holds a device; SourceError if one fails."""
    if cfg.kind in CHECKS:
        check: Callable[[SourceConfig], None] = load(CHECKS[cfg.kind])
        check(cfg)
