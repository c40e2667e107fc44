"""ReopeningSource: a camera that goes and comes back, reopened with backoff."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.errors import BadFrame, SourceError
from edge.ports import Frame
from edge.sources.reopening import MAX_BACKOFF_S, MIN_BACKOFF_S, ReopeningSource
from tests.fakes import CountingSource


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_lost_camera_is_reopened_after_a_growing_backoff() -> None:
    clock, first, opened = Clock(), CountingSource(), []
    is_plugged = [False]

    def reopen() -> CountingSource:
        if not is_plugged[0]:
            raise SourceError("camera 0 (/dev/video0): not found")
        opened.append(CountingSource())
        return opened[-1]

    source = ReopeningSource(reopen, first, clock=clock)
    assert isinstance(source.read(), Frame) and source.problem is None
    first.fail_next = 1
    with pytest.raises(SourceError):
        source.read()  # unplugged
    assert (source.problem or "").startswith("camera lost since ")
    with pytest.raises(SourceError, match="next reopen in"):
        source.read()  # within the backoff: fails at once, no open attempted
    clock.now += MIN_BACKOFF_S
    with pytest.raises(SourceError, match="not found"):
        source.read()  # tried, still gone: the backoff doubles
    clock.now += MIN_BACKOFF_S
    with pytest.raises(SourceError, match="next reopen in"):
        source.read()
    is_plugged[0] = True
    clock.now += MAX_BACKOFF_S
    assert isinstance(source.read(), Frame) and source.problem is None and len(opened) == 1
    source.close()


def test_one_damaged_image_is_not_a_lost_camera(tmp_path: Path) -> None:
    from edge.sources.images import ImageFolderSource

    for name in ("a.png", "c.png"):
        cv2.imwrite(str(tmp_path / name), np.full((8, 8, 3), 99, np.uint8))
    (tmp_path / "b.png").write_bytes(b"not a png")
    source = ReopeningSource(lambda: ImageFolderSource(tmp_path), ImageFolderSource(tmp_path))
    source.read()
    with pytest.raises(BadFrame):
        source.read()
    assert source.read().source.endswith("c.png") and source.problem is None
