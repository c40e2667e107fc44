"""Continuous mode: pacing, the averaging its frames get, per-person smoothing on the real
tracker, publishing only changes and heartbeats, and the person message when a track ends."""

from __future__ import annotations

from edge.continuous.config import ContinuousConfig
from edge.continuous.mode import ContinuousMode, Step, frame_averaging
from edge.ports import Emotion, FaceBox, Result, TriggerEvent
from tests.fakes import LABELS, FixedClassifier


def emotion(label: str) -> Emotion:
    scores = {k: (0.8 if k == label else 0.2 / 6) for k in LABELS}
    return Emotion(label, 0.8, scores)


def result(*faces: tuple[FaceBox, str]) -> Result:
    return Result("id", None, "dev", "continuous", "2026-01-01T00:00:00.000Z",
                  tuple((box, emotion(label)) for box, label in faces), {}, "m")


def one(label: str | None) -> Result:
    return result((FaceBox(100, 100, 80, 80), label)) if label is not None else result()


def mode(**changes: object) -> ContinuousMode:
    base: dict[str, object] = {"is_enabled": True, "window_frames": 3, "heartbeat_s": 60,
                               "track_confirm_frames": 1, "track_lost_s": 1.0, "max_fps": 5}
    return ContinuousMode(ContinuousConfig.model_validate({**base, **changes}))


def run(m: ContinuousMode, results: list[Result], step_s: float = 0.2) -> list[Step]:
    return [m.consider(r, now=100 + i * step_s) for i, r in enumerate(results)]


def labels(steps: list[Step]) -> list[str]:
    return [s.result.dominant.label if s.result.dominant else "none"
            for s in steps if s.result is not None]


def test_publishes_changes_only_and_smooths_blips() -> None:
    seq = ["happy", "happy", "sad", "happy", "sad", "sad", "sad"]
    assert labels(run(mode(), [one(x) for x in seq])) == ["happy", "sad"]


def test_every_published_face_carries_its_track_id() -> None:
    steps = run(mode(), [one("happy")] * 3)
    published = steps[0].result
    assert published is not None and len(published.track_ids) == 1
    face = published.to_json_dict()["faces"][0]
    assert face["track_id"] == published.track_ids[0]
    assert len(face["track_id"]) == 12 and int(face["track_id"], 16) >= 0  # random hex


def test_track_ids_are_random_per_visit_not_derived_from_the_face() -> None:
    first = run(mode(), [one("happy")])[0].result
    second = run(mode(), [one("happy")])[0].result
    assert first is not None and second is not None
    assert first.track_ids != second.track_ids


def test_a_face_seen_once_is_not_a_person_until_confirmed() -> None:
    m = mode(track_confirm_frames=3)
    steps = run(m, [one("happy"), one(None), one(None), one("happy"), one("happy"),
                    one("happy")])
    faces = [len(s.result.faces) for s in steps if s.result is not None]
    assert faces == [0, 1]  # "none" at the start, then the face once seen 3 frames in a row
    assert steps[5].result is not None and steps[4].result is None


def test_each_person_keeps_their_own_emotion_when_they_swap_sizes() -> None:
    """Two people walk past each other while one comes closer and the other steps back; the
    larger face changes from A to B. Per-person smoothing never mixes their scores, and
    their track ids stay theirs."""
    frames = []
    for i in range(12):
        a = FaceBox(60 + 30 * i, 100, 70 + 6 * i, 70 + 6 * i)  # happy, grows
        b = FaceBox(480 - 30 * i, 260, 136 - 6 * i, 136 - 6 * i)  # sad, shrinks
        frames.append(result((a, "happy"), (b, "sad")))
    ids_of: dict[str, set[str]] = {"happy": set(), "sad": set()}
    for step in run(mode(heartbeat_s=0.01), frames):
        assert step.result is not None
        for (box, smoothed), track in zip(step.result.faces, step.result.track_ids,
                                          strict=True):
            truth = "happy" if box.y == 100 else "sad"
            assert smoothed.label == truth
            ids_of[truth].add(track)
    assert len(ids_of["happy"]) == len(ids_of["sad"]) == 1
    assert ids_of["happy"] != ids_of["sad"]


def test_a_track_ends_after_track_lost_s_with_its_person_message() -> None:
    m = mode(track_lost_s=1.0)
    seq = ["happy"] * 6 + ["sad"] * 4 + [None] * 8  # 0.2 s a frame
    steps = run(m, [one(x) for x in seq])
    ended = [(i, v) for i, s in enumerate(steps) for v in s.ended]
    assert len(ended) == 1
    i, visit = ended[0]
    assert i == 15  # last seen at frame 9 (t=1.8 s); lost over 1 s at frame 15 (t=3.0 s)
    assert abs(visit.duration_s - 1.8) < 1e-9
    assert set(visit.emotions) == {"happy", "sad"}
    assert abs(sum(visit.emotions.values()) - 1.0) < 1e-9
    assert visit.emotions["happy"] > visit.emotions["sad"]
    assert steps[0].result is not None
    assert visit.track_id == steps[0].result.track_ids[0]
    doc = visit.to_json_dict()
    assert set(doc) == {"track_id", "device", "first_seen", "last_seen", "duration_s",
                        "emotions", "model"}
    assert labels(steps)[-1] == "none"  # the result after the track ended has no face
    assert len(m.people) == 0  # nothing about the face is kept


def test_a_face_back_within_track_lost_s_is_the_same_person() -> None:
    seq = ["happy"] * 4 + [None] * 3 + ["happy"] * 4
    steps = run(mode(track_lost_s=1.0), [one(x) for x in seq])
    ids = {t for s in steps if s.result is not None for t in s.result.track_ids}
    assert len(ids) == 1
    assert not any(s.ended for s in steps)


def test_end_all_ends_every_track() -> None:
    m = mode()
    run(m, [one("happy")] * 3)
    visits = m.end_all("dev", "m")
    assert len(visits) == 1 and visits[0].emotions == {"happy": 1.0}
    assert len(m.people) == 0


def test_heartbeat_republishes_unchanged() -> None:
    m = mode(window_frames=1, heartbeat_s=1.0)
    assert labels(run(m, [one("happy")] * 25, step_s=0.1)) == ["happy"] * 3


def test_pacing_caps_fps() -> None:
    m = mode(max_fps=4)
    event = m.next_event(now=10.0)
    assert event is not None and event.kind == "continuous"
    assert abs(m.due_in_s(now=10.1) - 0.15) < 1e-9
    assert m.next_event(now=10.1) is None
    assert m.next_event(now=10.3) is not None


def test_each_frame_names_the_averaging_the_mode_was_given() -> None:
    m = ContinuousMode(ContinuousConfig(is_enabled=True), averaging="flip")
    event = m.next_event(now=100.0)
    assert event is not None and event.averaging == "flip" and m.is_frame(event)
    assert not m.is_frame(TriggerEvent("button"))


def test_frames_get_the_models_continuous_averaging_unless_the_config_names_one() -> None:
    classifier = FixedClassifier()  # its model: crops by default, flip for continuous use
    assert frame_averaging(ContinuousConfig(), classifier) == "flip"
    assert frame_averaging(ContinuousConfig(averaging="none"), classifier) == "none"
