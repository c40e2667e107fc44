"""`People`: each tracked face as a person with a random id, their own smoothed emotion and
how long each emotion was dominant, forgotten when their track ends."""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from edge.pipeline import rfc3339
from edge.ports import Emotion, PersonVisit


@dataclass
class Person:
    """One visit: what is kept is the id, times and scores, never pixels or landmarks."""

    track_id: str
    first_seen: float  # wall time (time.time()), for the person message
    last_seen: float
    first_seen_mono: float  # monotonic: the stay's length survives a wall-clock jump
    last_seen_mono: float
    window: deque[Mapping[str, float]]
    smoothed: Emotion | None = None
    dominant_s: dict[str, float] = field(default_factory=dict)

    def observe(self, scores: Mapping[str, float], wall: float, mono: float) -> Emotion:
        if self.smoothed is not None:  # the time since the last frame goes to the label then
            label = self.smoothed.label
            self.dominant_s[label] = self.dominant_s.get(label, 0.0) + mono - self.last_seen_mono
        self.window.append(scores)
        self.last_seen, self.last_seen_mono = wall, mono
        self.smoothed = _mean(self.window)
        return self.smoothed

    def shares(self) -> dict[str, float]:
        total = sum(self.dominant_s.values())
        if total <= 0:  # seen in one frame only
            return {self.smoothed.label: 1.0} if self.smoothed is not None else {}
        return {k: v / total for k, v in sorted(self.dominant_s.items(), key=lambda kv: -kv[1])}


def _mean(window: deque[Mapping[str, float]]) -> Emotion:
    labels = list(window[0])
    mean = {k: sum(s.get(k, 0.0) for s in window) / len(window) for k in labels}
    best = max(mean, key=lambda k: mean[k])
    return Emotion(best, mean[best], mean)


class People:
    """The persons of the live tracks, by the tracker's id. Worker thread only."""

    def __init__(self, window_frames: int, lost_s: float) -> None:
        self._window_frames = window_frames
        self._lost_s = lost_s
        self._people: dict[int, Person] = {}

    def __len__(self) -> int:
        return len(self._people)

    def observe(self, key: int, scores: Mapping[str, float], wall: float,
                mono: float) -> tuple[str, Emotion]:
        """The person of track `key` (a new one on its first frame), their smoothed emotion."""
        person = self._people.get(key)
        if person is None:
            person = self._people[key] = Person(
                secrets.token_hex(6), wall, wall, mono, mono, deque(maxlen=self._window_frames))
        return person.track_id, person.observe(scores, wall, mono)

    def labels(self) -> tuple[tuple[str, str], ...]:
        """(track_id, smoothed label) of every live person, for noticing a change."""
        return tuple(sorted((p.track_id, p.smoothed.label if p.smoothed else "none")
                            for p in self._people.values()))

    def end_lost(self, mono: float, seen: set[int], device: str,
                 model: str) -> list[PersonVisit]:
        """End every track not in `seen` whose face was last seen over `lost_s` ago."""
        lost = [k for k, p in self._people.items()
                if k not in seen and mono - p.last_seen_mono > self._lost_s]
        return [self._end(k, device, model) for k in lost]

    def end_all(self, device: str, model: str) -> list[PersonVisit]:
        return [self._end(k, device, model) for k in list(self._people)]

    def _end(self, key: int, device: str, model: str) -> PersonVisit:
        person = self._people.pop(key)
        return PersonVisit(person.track_id, device, rfc3339(person.first_seen),
                           rfc3339(person.last_seen),
                           person.last_seen_mono - person.first_seen_mono,
                           person.shares(), model)
