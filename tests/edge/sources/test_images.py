"""ImageFolderSource replays real image files written by the test, in name order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.errors import SourceError, SourceExhausted
from edge.sources.images import FrameListSource, ImageFolderSource, letterbox, list_images


def brightness(source: ImageFolderSource, n: int) -> list[int]:
    return [int(source.read().image.mean()) for _ in range(n)]


def test_folder_is_replayed_in_name_order_then_ends(image_dir: Path) -> None:
    source = ImageFolderSource(image_dir)
    assert brightness(source, 3) == [10, 20, 30]
    with pytest.raises(SourceExhausted, match="3 images replayed"):
        source.read()


def test_looping_starts_again(image_dir: Path) -> None:
    source = ImageFolderSource(image_dir, is_looping=True)
    assert brightness(source, 5) == [10, 20, 30, 10, 20]


def test_a_list_keeps_its_order_and_frames_name_their_file(image_dir: Path) -> None:
    source = ImageFolderSource([image_dir / "c.png", image_dir / "a.png"])
    frame = source.read()
    assert frame.source.endswith("c.png") and frame.image.shape == (24, 32, 3)
    assert frame.image.dtype == np.uint8 and frame.captured_at > 0


def test_unreadable_image_is_named_and_the_next_read_moves_on(image_dir: Path) -> None:
    (image_dir / "b.png").write_bytes(b"not a png")
    source = ImageFolderSource(image_dir)
    assert brightness(source, 1) == [10]
    with pytest.raises(SourceError, match=r"cannot read image .*b\.png"):
        source.read()
    assert brightness(source, 1) == [30]


def test_missing_path_and_empty_folder_are_camera_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="image path not found"):
        ImageFolderSource(tmp_path / "absent")
    with pytest.raises(SourceError, match="no images"):
        ImageFolderSource(tmp_path)


def test_list_images_ignores_other_files(image_dir: Path) -> None:
    assert [p.name for p in list_images(image_dir)] == ["a.png", "b.png", "c.png"]


def test_frame_list_source_replays_from_memory_forever() -> None:
    source = FrameListSource([np.zeros((2, 2), np.uint8), np.ones((2, 2), np.uint8)])
    assert [int(source.read().image[0, 0]) for _ in range(3)] == [0, 1, 0]


@pytest.mark.parametrize(("shape", "scale", "offset"), [
    ((100, 200, 3), 3.2, (0, 80)),     # wide, enlarged: gray bands above and below
    ((960, 640, 3), 0.5, (160, 0)),    # tall, shrunk: gray bands left and right
    ((48, 48), 10.0, (80, 0)),         # gray stays gray
])
def test_letterbox_keeps_the_aspect_and_centres_on_gray(
        shape: tuple[int, ...], scale: float, offset: tuple[int, int]) -> None:
    image = np.full(shape, 250, np.uint8)
    boxed = letterbox(image, 640, 480)
    assert boxed.image.shape == (480, 640, *shape[2:])
    assert (boxed.scale, boxed.offset) == (scale, offset)
    x, y, w, h = (round(v) for v in boxed.box(0, 0, shape[1], shape[0]))
    assert (x, y) == offset
    assert (boxed.image[y:y + h, x:x + w] == 250).all()
    outside = np.ones(boxed.image.shape[:2], bool)
    outside[y:y + h, x:x + w] = False
    assert (boxed.image[outside] == 128).all()


def test_an_unreadable_folder_is_a_camera_error_that_says_how_to_fix(
        image_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(self: Path) -> None:  # what a folder without the x bit does to a non-root user
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", denied)
    with pytest.raises(SourceError, match="permission denied; let the daemon's user read it"):
        ImageFolderSource(image_dir)
