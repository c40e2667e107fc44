"""Fixtures for the pipeline tests: the astronaut photo, frames, a small video, image folders."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge.ports import Frame
from tests.edge.daemon import REPO, Daemon, NotifySocket

DATA = Path(__file__).resolve().parent.parent / "data"
ASTRONAUT_FACE = (175, 64, 99, 99)  # x, y, w, h in the 512x512 photo, found by the cascade


def frame_of(image: np.ndarray, source: str = "test") -> Frame:
    return Frame(image=image, source=source, captured_at=time.time())


def place(image: np.ndarray, width: int, height: int, side: int) -> np.ndarray:
    """`image` resized to side x side and centred on a gray width x height canvas."""
    canvas = np.full((height, width, 3), 128, np.uint8)
    x, y = (width - side) // 2, (height - side) // 2
    canvas[y:y + side, x:x + side] = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
    return canvas


def iou(a: Sequence[int], b: Sequence[int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / float(aw * ah + bw * bh - w * h)


@pytest.fixture(scope="session")
def astronaut_path() -> Path:
    """scikit-image's `astronaut` (NASA, public domain), 512x512 BGR JPEG, one frontal face."""
    return DATA / "astronaut.jpg"


@pytest.fixture(scope="session")
def astronaut(astronaut_path: Path) -> np.ndarray:
    image = cv2.imread(str(astronaut_path))
    assert image is not None
    return image


@pytest.fixture(scope="session")
def frame_640(astronaut: np.ndarray) -> Frame:
    """A 640x480 frame with one face: the photo scaled to 480x480, centred."""
    return frame_of(place(astronaut, 640, 480, 480), "frame_640")


@pytest.fixture
def blank_frame() -> Frame:
    return frame_of(np.full((480, 640, 3), 128, np.uint8), "blank")


@pytest.fixture
def write_video(tmp_path: Path) -> Callable[[int], Path]:
    """Writes an MJPG .avi of n 64x48 frames whose brightness is 20, 40, 60, ..."""

    def write(n: int) -> Path:
        path = tmp_path / f"clip{n}.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
        assert writer.isOpened()
        for i in range(n):
            writer.write(np.full((48, 64, 3), 20 * (i + 1), np.uint8))
        writer.release()
        return path

    return write


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    """A folder of three PNGs, c.png b.png a.png written out of order (brightness 30, 20, 10
    in name order a, b, c => 10, 20, 30), plus a text file that must be ignored."""
    folder = tmp_path / "images"
    folder.mkdir()
    for name, value in (("c.png", 30), ("a.png", 10), ("b.png", 20)):
        cv2.imwrite(str(folder / name), np.full((24, 32, 3), value, np.uint8))
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture
def model_copy(tiny_model: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny model and its sidecar, safe to damage."""
    target = tmp_path / "model" / "tiny.tflite"
    target.parent.mkdir()
    shutil.copy(tiny_model, target)
    shutil.copy(tiny_model.with_suffix(".json"), target.with_suffix(".json"))
    return target


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(REPO / "tests" / "data" / "astronaut.jpg", folder / "a.jpg")
    return folder


@pytest.fixture
def daemons() -> Iterator[Callable[..., Daemon]]:
    made: list[Daemon] = []

    def make(workdir: Path, config: dict[str, Any], env: dict[str, str] | None = None) -> Daemon:
        made.append(Daemon(workdir, config, env))
        return made[-1]

    yield make
    for daemon in made:
        daemon.kill()


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path / "notify.sock")
    yield sock
    sock.sock.close()
