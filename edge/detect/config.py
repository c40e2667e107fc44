"""The detector settings, one class per `kind`: cv2-free, so `edge.config` can compose them.

Each backend file (`haar.py`, `yunet.py`, `whole_frame.py`) takes its class from here;
`kind = "auto"` is no backend of its own but YuNet, else Haar, opened by `open_detector`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from edge.config_base import StrictConfig


class HaarDetectorConfig(StrictConfig):
    # OpenCV's alt2 cascade, 256 px, step 1.2, 2 votes: 2.4x faster than v0.1's default
    # cascade at 320 px / 1.15 / 5 votes, with more faces found and fewer false ones, down to
    # the 47 px real faces the tests place. 320 px / 1.15 / 3 votes finds 2% more faces in
    # 1.35x the time (measured on pasted FER2013 faces, which flatter Haar).
    kind: Literal["haar"] = Field("haar", description="OpenCV's Haar cascade: no model file, "
                                  "finds fewer faces than YuNet (the fallback of kind = auto)")
    cascade_path: Path | None = Field(
        None, description="Haar cascade XML; default: OpenCV's haarcascade_frontalface_alt2")
    detect_width_px: int = Field(
        256, ge=80, description="frames wider than this are downscaled before detection")
    scale_factor: float = Field(1.2, gt=1.0, le=2.0, description="cascade pyramid step")
    min_neighbors: int = Field(2, ge=1, description="cascade votes needed for a face")
    min_face_px: int = Field(48, ge=16, description="smallest face side, in full-frame pixels")


class YunetKeys(StrictConfig):
    """The settings of `kind = "yunet"` and of `kind = "auto"` (which may fall back to Haar)."""

    model_path: Path | None = Field(
        None, description="YuNet .onnx with its .json sidecar beside it; default: the shipped "
        "face_detection_yunet_2023mar")
    detect_width_px: int = Field(
        320, ge=64, description="frames are downscaled to fit detect_width_px x "
        "detect_height_px before detection (aspect kept); boxes are mapped back")
    detect_height_px: int = Field(240, ge=64, description="see detect_width_px")
    score_threshold: float = Field(
        0.7, gt=0.0, lt=1.0, description="YuNet confidence needed for a face")
    nms_threshold: float = Field(
        0.3, gt=0.0, lt=1.0, description="boxes overlapping more than this (IoU) are merged")
    min_face_px: int = Field(
        16, ge=16, description="smallest face box width, in full-frame pixels")


class YunetDetectorConfig(YunetKeys):
    kind: Literal["yunet"] = Field(
        "yunet", description="YuNet only: an error at start when it cannot load")


# The keys YuNet and Haar share: a fallback to Haar keeps those the user set.
_FALLBACK_KEYS = sorted(set(YunetKeys.model_fields) & set(HaarDetectorConfig.model_fields))


class AutoDetectorConfig(YunetKeys):
    kind: Literal["auto"] = Field(
        "auto", description="the best detector that loads: YuNet (keys below) when OpenCV >= 4.8 "
        "has cv2.FaceDetectorYN and the model file verifies, else the Haar cascade with one "
        f"warning, keeping {' and '.join(_FALLBACK_KEYS)} if set here (Haar's defaults for "
        "the rest)")

    def yunet(self) -> YunetDetectorConfig:
        """The YuNet settings this stands for."""
        return YunetDetectorConfig.model_validate(self.model_dump(exclude={"kind"}))

    def fallback(self) -> HaarDetectorConfig:
        """The Haar settings used when YuNet cannot load: the shared keys the user set."""
        return HaarDetectorConfig.model_validate(
            self.model_dump(include=set(_FALLBACK_KEYS), exclude_unset=True))

    @model_validator(mode="after")
    def _fallback_is_valid(self) -> AutoDetectorConfig:
        try:
            self.fallback()
        except ValidationError as e:
            wrong = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
                              for err in e.errors())
            raise ValueError(f"the Haar fallback cannot take this value ({wrong}); change it "
                             "or set kind = \"yunet\"") from None
        return self


class WholeFrameConfig(StrictConfig):
    kind: Literal["whole_frame"] = Field(
        "whole_frame", description="no detection: each frame is one face (pre-cropped faces, "
        "`emotion-edge detect --no-detect`)")


# Before YuNet, `[detector]` had no kind and meant Haar: a table that sets a Haar-only key
# still does; any other table without a kind is the default, auto.
_HAAR_ONLY_KEYS = frozenset(HaarDetectorConfig.model_fields) - {"kind", "min_face_px"}


def _default_kind(data: Any) -> Any:
    if isinstance(data, Mapping) and "kind" not in data:
        return {**data, "kind": "haar" if _HAAR_ONLY_KEYS & set(data) else "auto"}
    return data


# the union `Settings.detector` holds: one of the variants above, chosen by `kind`
DetectorConfig = Annotated[
    AutoDetectorConfig | HaarDetectorConfig | YunetDetectorConfig | WholeFrameConfig,
    Field(discriminator="kind"), BeforeValidator(_default_kind)]


def default_detector_config() -> DetectorConfig:
    return AutoDetectorConfig()
