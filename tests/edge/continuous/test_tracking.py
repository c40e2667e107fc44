"""The face tracker on the real `lap` solver: confirmation, crossing, hiding, ending."""

from __future__ import annotations

from edge.continuous.tracking import FaceTracker
from edge.ports import FaceBox


def test_a_track_is_confirmed_after_confirm_frames_in_a_row() -> None:
    tracker = FaceTracker(confirm_frames=3, lost_frames=5)
    box = FaceBox(100, 100, 80, 80)
    assert [tracker.update([box])[0] for _ in range(4)] == [None, None, 1, 1]


def test_a_tentative_track_that_misses_a_frame_starts_over() -> None:
    tracker = FaceTracker(confirm_frames=2, lost_frames=5)
    box = FaceBox(100, 100, 80, 80)
    assert tracker.update([box]) == [None]
    assert tracker.update([]) == []  # a flicker: not a person
    assert tracker.update([box]) == [None]
    assert tracker.update([box]) == [2]


def test_crossing_faces_keep_their_tracks() -> None:
    """Two faces walk past each other, overlapping by less than half at the crossing."""
    tracker = FaceTracker(confirm_frames=1, lost_frames=5)
    keys = []
    for i in range(16):
        a = FaceBox(60 + 30 * i, 100, 100, 100)
        b = FaceBox(510 - 30 * i, 160, 100, 100)
        keys.append(tuple(tracker.update([b, a])))
    assert set(keys) == {(1, 2)}


def test_a_walking_face_hidden_for_a_second_is_found_ahead() -> None:
    tracker = FaceTracker(confirm_frames=1, lost_frames=10)
    for i in range(6):
        assert tracker.update([FaceBox(50 + 25 * i, 100, 80, 80)]) == [1]
    for _ in range(5):
        tracker.update([])
    assert tracker.update([FaceBox(50 + 25 * 11, 100, 80, 80)]) == [1]  # 125 px further


def test_a_still_face_with_a_jittering_box_survives_a_miss() -> None:
    tracker = FaceTracker(confirm_frames=1, lost_frames=10)
    for i in range(8):
        tracker.update([FaceBox(200 + (6 if i % 2 else -6), 100, 80, 80)])
    for _ in range(6):
        tracker.update([])
    assert tracker.update([FaceBox(200, 100, 80, 80)]) == [1]


def test_a_track_lost_for_more_than_lost_frames_ends() -> None:
    tracker = FaceTracker(confirm_frames=1, lost_frames=3)
    box = FaceBox(100, 100, 80, 80)
    assert tracker.update([box]) == [1]
    for _ in range(4):
        tracker.update([])
    assert tracker.update([box]) == [2]  # a new visit


def test_for_rate_turns_seconds_into_frames() -> None:
    assert FaceTracker.for_rate(2, 2.0, 5.0).lost_frames == 10
    assert FaceTracker.for_rate(2, 0.1, 5.0).lost_frames == 1
