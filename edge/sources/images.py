"""Replay still images as frames: a file, a folder (name order) or a list; for demos and tests."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.errors import BadFrame, SourceError, SourceExhausted
from edge.ports import Frame
from edge.sources.base import SourceBase
from edge.sources.config import ImagesConfig

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm",
                            ".ppm", ".pnm"})


def list_images(path: Path) -> list[Path]:
    """A file as itself, a folder as its image files in name order; SourceError if missing."""
    if path.is_dir():
        try:
            return sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        except PermissionError as e:
            raise SourceError(f"cannot list {path}: permission denied; let the daemon's user "
                              "read it (chmod o+rx, or the emotion-edge group)") from e
    if path.exists():
        return [path]
    raise SourceError(f"image path not found: {path}")


def open_images(cfg: ImagesConfig) -> ImageFolderSource:
    """The source of `source.kind = "images"`."""
    return ImageFolderSource(cfg.path, is_looping=cfg.is_looping)


def check_images(cfg: ImagesConfig) -> None:
    """SourceError when `source.path` holds no image; opens nothing that stays open."""
    open_images(cfg).close()


@dataclass(frozen=True)
class Letterboxed:
    image: np.ndarray
    scale: float  # canvas pixels per source pixel
    offset: tuple[int, int]  # x, y of the scaled image on the canvas

    def box(self, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        """A box of the source image in canvas pixels."""
        s = self.scale
        return self.offset[0] + x * s, self.offset[1] + y * s, w * s, h * s


def letterbox(image: np.ndarray, width: int, height: int) -> Letterboxed:
    """`image` scaled to fit width x height (up or down), aspect kept, centred on mid-gray."""
    scale = min(width / image.shape[1], height / image.shape[0])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    x, y = (width - size[0]) // 2, (height - size[1]) // 2
    canvas = np.full((height, width, *image.shape[2:]), 128, np.uint8)
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas[y:y + size[1], x:x + size[0]] = cv2.resize(image, size, interpolation=shrink)
    return Letterboxed(canvas, scale, (x, y))


class ImageFolderSource(SourceBase):
    """Replays image files as frames, decoding each on `read()`.

    `paths` is one file, one folder (its images in name order) or a list of both (in the
    order given). An unreadable image raises SourceError naming it; the next `read()` moves
    on to the following image. At the end it starts again when `is_looping`, otherwise
    raises `SourceExhausted`. Called from the worker thread; holds no open files, so
    closing releases nothing.
    """

    def __init__(self, paths: Path | Sequence[Path], *, is_looping: bool = False) -> None:
        items = [paths] if isinstance(paths, Path) else list(paths)
        self.paths: list[Path] = [p for item in items for p in list_images(Path(item))]
        if not self.paths:
            raise SourceError(f"no images (.jpg, .png, ...) in {', '.join(map(str, items))}")
        self._is_looping = is_looping
        self._next = 0

    def __len__(self) -> int:
        return len(self.paths)

    def read(self) -> Frame:
        if self._next >= len(self.paths):
            if not self._is_looping:
                raise SourceExhausted(f"all {len(self.paths)} images replayed "
                                      "(set source.is_looping = true to repeat them)")
            self._next = 0
        path = self.paths[self._next]
        self._next += 1
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None and not path.exists():  # the folder went away: a lost camera
            raise SourceError(f"image path not found: {path}")
        if image is None:
            raise BadFrame(f"cannot read image {path}: not an image OpenCV can decode")
        return Frame(image=image, source=str(path), captured_at=time.time())


class FrameListSource(SourceBase):
    """Replays decoded frames from memory, forever; capture costs nothing (for `bench`).
    Holds nothing to release."""

    def __init__(self, images: Sequence[np.ndarray], name: str = "memory") -> None:
        if not images:
            raise SourceError("no frames to replay")
        self._images = list(images)
        self._name = name
        self._next = 0

    def read(self) -> Frame:
        image = self._images[self._next % len(self._images)]
        self._next += 1
        return Frame(image=image, source=self._name, captured_at=time.time())
