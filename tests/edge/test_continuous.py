"""Continuous mode: pacing and smoothing, publishing only changes and heartbeats."""

from __future__ import annotations

from edge.config import ContinuousConfig
from edge.continuous import ContinuousMode
from edge.ports import Emotion, FaceBox, Result
from tests.fakes import LABELS


def result(label: str | None) -> Result:
    faces: tuple[tuple[FaceBox, Emotion], ...] = ()
    if label is not None:
        scores = {k: (0.8 if k == label else 0.2 / 6) for k in LABELS}
        faces = ((FaceBox(0, 0, 50, 50), Emotion(label, 0.8, scores)),)
    return Result("id", None, "dev", "continuous", "t", faces, {}, "m")


def labels_published(mode: ContinuousMode, seq: list[str | None], step_s: float = 0.1) -> list[str]:
    out = []
    for i, label in enumerate(seq):
        got = mode.consider(result(label), now=100 + i * step_s)
        if got is not None:
            out.append(got.dominant.label if got.dominant else "none")
    return out


def test_publishes_changes_only_and_smooths_blips() -> None:
    mode = ContinuousMode(ContinuousConfig(is_enabled=True, window_frames=3, heartbeat_s=60))
    seq = ["happy", "happy", "sad", "happy", "sad", "sad", "sad"]
    assert labels_published(mode, seq) == ["happy", "sad"]


def test_faces_gone_publish_none() -> None:
    mode = ContinuousMode(ContinuousConfig(is_enabled=True, window_frames=2, heartbeat_s=60))
    assert labels_published(mode, ["happy", None, None, None]) == ["happy", "none"]


def test_heartbeat_republishes_unchanged() -> None:
    mode = ContinuousMode(ContinuousConfig(is_enabled=True, window_frames=1, heartbeat_s=1.0))
    assert labels_published(mode, ["happy"] * 25, step_s=0.1) == ["happy"] * 3


def test_pacing_caps_fps() -> None:
    mode = ContinuousMode(ContinuousConfig(is_enabled=True, max_fps=4))
    assert mode.due_in_s(now=10.0) == 0
    mode.mark_taken(now=10.0)
    assert mode.due_in_s(now=10.1) == 0.25 - 0.1 or abs(mode.due_in_s(now=10.1) - 0.15) < 1e-9
    assert mode.due_in_s(now=10.3) == 0


def test_a_change_smoothed_on_a_faceless_frame_waits_for_a_face_to_carry_it() -> None:
    """The window (happy, sad, sad, no face) turns to sad on the frame where the face is
    gone: that frame must not go out as `none` while sad is recorded as published (which
    silenced sad until the heartbeat); sad goes out with the next face."""
    mode = ContinuousMode(ContinuousConfig(is_enabled=True, window_frames=4, heartbeat_s=60))
    seq = ["happy", "happy", "happy", "happy", "sad", "sad", None, "sad", "sad"]
    assert labels_published(mode, seq) == ["happy", "sad"]
