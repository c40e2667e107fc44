"""The `[source]` settings, one class per `kind` of frame source: no vendor import, so
`edge.config` composes them and loading a config opens no camera library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from edge.config_base import StrictConfig


class PicameraConfig(StrictConfig):
    kind: Literal["picamera"] = "picamera"
    camera_num: int = Field(0, ge=0, description="libcamera camera index")
    width_px: int = Field(640, ge=64, description="frame width")
    height_px: int = Field(480, ge=64, description="frame height")


class OpenCvConfig(StrictConfig):
    kind: Literal["opencv"] = "opencv"
    device: int | str = Field(
        0, description="USB camera index, /dev/videoN, stream URL or video file")
    width_px: int = Field(640, ge=64, description="requested frame width")
    height_px: int = Field(480, ge=64, description="requested frame height")
    is_looping: bool = Field(False, description="restart a video file at its end")
    timeout_s: float = Field(5.0, gt=0, description="give up on a frame read after this long")


class ImagesConfig(StrictConfig):
    kind: Literal["images"] = "images"
    path: Path = Field(description="an image file or a folder of images, replayed in name order")
    is_looping: bool = Field(True, description="start again after the last image")


# the union `Settings.source` holds: one of the variants above, chosen by `kind`
SourceConfig = Annotated[PicameraConfig | OpenCvConfig | ImagesConfig, Field(discriminator="kind")]
