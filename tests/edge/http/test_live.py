"""LiveView: frames kept only while a page watches, one encode per frame, fps."""

from __future__ import annotations

import cv2
import numpy as np

from edge.http.live import LiveView
from edge.ports import Emotion, FaceBox, Frame, Result


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def result(n: int, *, error: bool = False) -> Result:
    faces = () if error else ((FaceBox(1, 2, 3, 4), Emotion("happy", 0.9, {"happy": 0.9})),)
    return Result(id=f"r{n}", request_id=None, device="d", trigger="interval",
                  timestamp="2026-12-07T00:00:00.000Z", faces=faces, latency_ms={"total": 5.0},
                  model="m", error={"kind": "camera", "reason": "gone"} if error else None)


def frame() -> Frame:
    return Frame(np.full((48, 64, 3), 200, np.uint8), "test", 0.0)


def test_nobody_watching_keeps_no_frame_and_encodes_none() -> None:
    live = LiveView(clock=Clock())
    for n in range(5):
        live.offer(result(n), frame())
    assert live.latest_framed() is None
    assert live.jpeg("r4") is None
    assert live.encoded == 0
    assert [seen.result.id for seen in live.recent()] == ["r4", "r3", "r2", "r1", "r0"]


def test_a_watching_page_gets_the_latest_frame_encoded_once() -> None:
    clock = Clock()
    live = LiveView(clock=clock, lease_s=5.0)
    live.watch()
    live.offer(result(1), frame())
    live.offer(result(2), frame())
    framed = live.latest_framed()
    assert framed is not None and framed.id == "r2"
    first = live.jpeg("r2")
    assert first is not None and live.jpeg("r2") is first and live.encoded == 1
    decoded = cv2.imdecode(np.frombuffer(first, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (48, 64, 3)
    assert live.jpeg("r1") is not None  # one older frame is kept for the page's race


def test_frames_are_dropped_when_the_lease_runs_out() -> None:
    clock = Clock()
    live = LiveView(clock=clock, lease_s=5.0)
    live.watch()
    live.offer(result(1), frame())
    clock.now += 6
    assert live.latest_framed() is None and live.jpeg("r1") is None
    live.offer(result(2), frame())
    assert live.latest_framed() is None


def test_fps_counts_captures_made_not_errors() -> None:
    clock = Clock()
    live = LiveView(clock=clock)
    for n in range(11):
        live.offer(result(n), None)
        live.offer(result(100 + n, error=True), None)
        clock.now += 0.5
    assert abs(live.fps() - 2.0) < 0.01
