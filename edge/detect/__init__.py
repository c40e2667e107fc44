"""Face detectors, one backend per file, and `open_detector` to open the one a config names.

Each backend file holds its config class (a pydantic model whose `kind` literal names it)
beside its detector. Registering a backend is its config in `AnyDetectorConfig` and its
factory in `_FACTORIES`; `edge.config` builds `detector` from this union, and the app, every
CLI command and the benchmarks open detectors through `open_detector` only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from edge.detect.auto import AutoDetectorConfig, open_best
from edge.detect.haar import HaarDetectorConfig, HaarFaceDetector
from edge.detect.whole_frame import WholeFrameConfig, WholeFrameDetector
from edge.detect.yunet import YunetDetectorConfig, YunetFaceDetector, YunetKeys
from edge.ports import FaceDetector

log = logging.getLogger(__name__)

Warn = Callable[[str], None]
AnyDetectorConfig = AutoDetectorConfig | HaarDetectorConfig | YunetDetectorConfig | WholeFrameConfig

_FACTORIES: dict[str, Callable[[Any, Warn], FaceDetector]] = {
    "auto": open_best,
    "haar": lambda cfg, warn: HaarFaceDetector(cfg),
    "yunet": lambda cfg, warn: YunetFaceDetector(cfg),
    "whole_frame": lambda cfg, warn: WholeFrameDetector(cfg),
}
DETECTOR_KINDS = tuple(_FACTORIES)

# Before YuNet, `[detector]` had no kind and meant Haar: a table that sets a Haar-only key
# still does; any other table without a kind is the default, auto.
_HAAR_ONLY_KEYS = frozenset(HaarDetectorConfig.model_fields) - {"kind", "min_face_px"}


def _default_kind(data: Any) -> Any:
    if isinstance(data, Mapping) and "kind" not in data:
        return {**data, "kind": "haar" if _HAAR_ONLY_KEYS & set(data) else "auto"}
    return data


DetectorConfig = Annotated[AnyDetectorConfig, Field(discriminator="kind"),
                           BeforeValidator(_default_kind)]


def default_detector_config() -> AnyDetectorConfig:
    return AutoDetectorConfig()


def open_detector(cfg: AnyDetectorConfig, warn: Warn | None = None) -> FaceDetector:
    """Open the detector `cfg.kind` names; the caller closes it. ModelError (saying what to
    fix) when it cannot load; a fallback of kind = auto goes to `warn` (default: one WARNING
    log line)."""
    return _FACTORIES[cfg.kind](cfg, warn or log.warning)


__all__ = ["DETECTOR_KINDS", "AnyDetectorConfig", "AutoDetectorConfig", "DetectorConfig",
           "HaarDetectorConfig", "WholeFrameConfig", "YunetDetectorConfig", "YunetKeys",
           "default_detector_config", "open_detector"]
