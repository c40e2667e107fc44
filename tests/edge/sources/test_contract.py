"""One contract for every source kind `Settings.camera` accepts, as gpiozero's
test_real_pins.py runs one suite over every pin factory: registering a kind is enough to
be covered here. WORKING gives a kind the settings of a real source the test can make;
a kind that needs hardware is in HARDWARE and runs only with EMOEDGE_HARDWARE=1."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any, get_args

import numpy as np
import pytest

from edge.config import Settings
from edge.ports import FrameSource
from edge.sources import check_source, open_source

KINDS = [variant.model_fields["kind"].default
         for variant in get_args(Settings.model_fields["source"].annotation)]
# kind -> the [source] keys of a source made in the test's tmp_path (from its fixtures)
WORKING: dict[str, Callable[[pytest.FixtureRequest], dict[str, Any]]] = {
    "images": lambda request: {"path": str(request.getfixturevalue("image_dir"))},
    "opencv": lambda request: {
        "device": str(request.getfixturevalue("write_video")(3))},
}
HARDWARE = {"picamera": "needs a Raspberry Pi camera module and picamera2"}


@pytest.fixture(params=KINDS)
def camera(request: pytest.FixtureRequest) -> Any:
    """The validated `camera` settings of a working source of this kind."""
    kind = request.param
    if kind in HARDWARE and os.environ.get("EMOEDGE_HARDWARE") != "1":
        pytest.skip(f"source.kind = {kind} {HARDWARE[kind]}; set EMOEDGE_HARDWARE=1 on a Pi")
    table = WORKING[kind](request) if kind in WORKING else {}  # a new kind: its defaults
    return Settings.model_validate({"device_id": "pi", "source": {"kind": kind, **table}}).source


@pytest.fixture
def source(camera: Any) -> Iterator[FrameSource]:
    opened = open_source(camera)
    yield opened
    opened.close()


def test_the_start_up_check_passes_on_a_working_source(camera: Any) -> None:
    check_source(camera)


def test_frames_are_bgr_uint8_stamped_with_the_wall_clock_and_named(
        source: FrameSource) -> None:
    for _ in range(2):
        before = time.time()
        frame = source.read()
        assert before <= frame.captured_at <= time.time()
        assert isinstance(frame.image, np.ndarray) and frame.image.dtype == np.uint8
        assert frame.image.ndim == 3 and frame.image.shape[2] == 3 and frame.image.size > 0
        assert isinstance(frame.source, str) and frame.source


def test_close_twice_is_harmless(source: FrameSource) -> None:
    source.close()
    source.close()


def test_every_kind_has_a_working_source_or_needs_hardware() -> None:
    """A new kind whose defaults need a device gets an entry in WORKING or HARDWARE."""
    assert set(KINDS) >= set(WORKING) | set(HARDWARE)
    assert {"images", "opencv", "picamera"} <= set(KINDS)
