"""Face detectors, one backend per file, and `open_detector` to open the one a config names.

The config classes, one per `kind`, are in `edge/detect/config.py` (cv2-free, composed by
`edge.config`); `BACKENDS` names each kind's detector, imported only when it is opened.
Registering a backend is its config in `DetectorConfig`, its file and its line in
`BACKENDS`. The app, every CLI command and the benchmarks open detectors through
`open_detector` only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from edge.detect.config import AutoDetectorConfig, DetectorConfig
from edge.errors import ModelError
from edge.registry import load

if TYPE_CHECKING:
    from edge.ports import FaceDetector

log = logging.getLogger(__name__)

Warn = Callable[[str], None]

# kind -> its detector's constructor, which takes that kind's config; "auto" is YuNet or Haar
BACKENDS: Mapping[str, str] = {
    "haar": "edge.detect.haar:HaarFaceDetector",
    "yunet": "edge.detect.yunet:YunetFaceDetector",
    "whole_frame": "edge.detect.whole_frame:WholeFrameDetector",
}


def open_detector(cfg: DetectorConfig, warn: Warn | None = None) -> FaceDetector:
    """Open the detector `cfg.kind` names; the caller closes it. ModelError (saying what to
    fix) when it cannot load; a fallback of kind = auto goes to `warn` (default: one WARNING
    log line)."""
    if isinstance(cfg, AutoDetectorConfig):
        return _open_best(cfg, warn or log.warning)
    backend: Callable[[DetectorConfig], FaceDetector] = load(BACKENDS[cfg.kind])
    return backend(cfg)


def _open_best(cfg: AutoDetectorConfig, warn: Warn) -> FaceDetector:
    """YuNet, or Haar with the keys they share after calling `warn` once with the reason."""
    try:
        return open_detector(cfg.yunet())
    except ModelError as e:
        detector = open_detector(cfg.fallback())
        warn(f"YuNet face detector unavailable, using the Haar cascade, which misses many "
             f"real faces: {e} (or set detector.kind = \"haar\" to choose Haar on purpose)")
        return detector


__all__ = ["BACKENDS", "open_detector"]
