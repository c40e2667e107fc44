"""Sequences for the tracking benchmark: real faces moving along paths that cross, pass
close, hide for a moment, leave and come back, rendered at continuous mode's frame rate.

Two kinds of faces are pasted on a background cut from a real photo with no face
(`scripts/demo_images/3-coffee-no-face.jpg`, CC0):
- `photos`: faces cut from the annotated real photos ($EMOEDGE_FACES_DEV, `boxes.json`), with
  some of the photo around them; the truth box is the annotated face;
- `fer`: FER2013 PrivateTest faces whose expression is known: at least 7 of the 10 FER+
  annotators chose it (the votes are read at run time beside the data, never stored
  here); each person has one label and shows one of three faces of that label in every
  frame, so the classifier's per-frame errors vary as a live face's do.
Only faces the detector finds when pasted alone at 80 and 110 px are used (`keep_found`):
the benchmark measures tracking and smoothing, `--only detector` measures detection.
The truth of every frame is each visible person's box and visit id: a person who leaves the
frame and comes back is a new visit (tracks are per visit), one hidden for a moment is not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from . import REPO

if TYPE_CHECKING:
    from edge.ports import FaceBox, Frame

FPS = 5.0  # continuous mode's default max_fps
W, H = 640, 480
BACKGROUND = REPO / "scripts" / "demo_images" / "3-coffee-no-face.jpg"
CONTEXT = 1.6  # a photo face is cut with this much of the photo around it (x its box)
Key = tuple[float, float, float, float]  # t (s), centre x, centre y, face size (px)
Detect = Callable[["Frame"], list["FaceBox"]]


@dataclass(frozen=True)
class Person:
    keys: tuple[Key, ...]
    hidden: tuple[tuple[float, float], ...] = ()  # (from, to) s: the face is turned away
    label: int = 6  # FER2013 label (0 angry ... 6 neutral) for `fer` faces

    def at(self, t: float) -> tuple[float, float, float]:
        times = [k[0] for k in self.keys]
        return tuple(float(np.interp(t, times, [k[i] for k in self.keys]))  # type: ignore[return-value]
                     for i in (1, 2, 3))


@dataclass(frozen=True)
class Scene:
    name: str
    seconds: float
    people: tuple[Person, ...]


def scenes() -> list[Scene]:
    """The six sequences; every crossing keeps faces covering each other by less than half."""
    five = tuple(Person(((0, 60 if i % 2 else 580, 60 + 90 * i, 80),
                         (8, 580 if i % 2 else 60, 60 + 90 * i, 80)), label=lab)
                 for i, lab in enumerate((3, 4, 5, 0, 6)))
    return [
        Scene("cross", 6, (Person(((0, 80, 180, 110), (6, 560, 180, 110)), label=3),
                           Person(((0, 560, 240, 110), (6, 80, 240, 110)), label=4))),
        Scene("pass close", 6, (Person(((0, 80, 120, 110), (6, 560, 120, 110)), label=3),
                                Person(((0, 560, 242, 110), (6, 80, 242, 110)), label=5))),
        Scene("hide a moment", 8, (
            Person(((0, 100, 200, 110), (8, 500, 200, 110)), hidden=((3.0, 4.2),), label=3),
            Person(((0, 520, 360, 100), (8, 540, 360, 100)), label=6))),
        Scene("leave and return", 8, (
            Person(((0, 320, 200, 110), (2, 760, 200, 110), (4.5, 760, 200, 110),
                    (7, 420, 220, 110), (8, 420, 220, 110)), label=3),
            Person(((0, 150, 260, 100), (8, 160, 250, 100)), label=0))),
        Scene("swap sizes", 6, (Person(((0, 150, 150, 80), (6, 470, 170, 150)), label=3),
                                Person(((0, 470, 300, 150), (6, 150, 280, 80)), label=4))),
        Scene("five people", 8, five),
    ]


@dataclass(frozen=True)
class Truth:
    visit: str  # person index and visit number, e.g. "0.1"
    person: int
    box: tuple[int, int, int, int]
    label: int


@dataclass
class Faces:
    """The sprites of one kind: `face(person, frame)` -> (image, share of it the face is)."""

    kind: str
    images: list[list[np.ndarray]] = field(default_factory=list)  # per person, the choices
    inner: float = 1.0

    def face(self, person: int, frame: int, rng: np.random.Generator) -> np.ndarray:
        choices = self.images[person % len(self.images)]
        return choices[int(rng.integers(len(choices)))]


def photo_faces(photos: Path, detect: Detect, seed: int = 0) -> Faces:
    """Faces of the annotated photos the detector finds, each cut as a square of CONTEXT x
    its box."""
    boxes: dict[str, list[list[int]]] = json.loads((photos / "boxes.json").read_text())
    cut = []
    for name, faces in sorted(boxes.items()):
        image = cv2.imread(str(photos / name))
        if image is None:
            raise SystemExit(f"cannot read {photos / name}")
        pad = int(max(image.shape[:2]))
        big = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        for x, y, w, h in faces:
            side = round(max(w, h) * CONTEXT)
            cx, cy = x + w / 2 + pad, y + h / 2 + pad
            x0, y0 = int(cx - side / 2), int(cy - side / 2)
            cut.append(big[y0:y0 + side, x0:x0 + side].copy())
    cut = keep_found(cut, 1 / CONTEXT, detect)
    order = np.random.default_rng(seed).permutation(len(cut))
    return Faces("photos", [[cut[i]] for i in order], inner=1 / CONTEXT)


# FER+ vote columns of our labels (FER2013 order: angry, disgust, fear, happy, sad,
# surprise, neutral)
PLUS_COLUMN = {0: "anger", 1: "disgust", 2: "fear", 3: "happiness", 4: "sadness",
               5: "surprise", 6: "neutral"}
MIN_VOTES = 7


def fer_faces(data: Path, votes: Path, labels: list[int], detect: Detect, seed: int = 0,
              per_person: int = 3) -> Faces:
    """For each label, `per_person` PrivateTest faces that at least MIN_VOTES annotators gave
    it and that the detector finds (gray, as BGR); our classifier plays no part."""
    with np.load(data) as d, np.load(votes) as v:
        keep = d["usage"] == 2
        images = d["images"][keep]
        counts, columns = v["votes"][keep], [str(c) for c in v["columns"]]
    truth = np.full(len(images), -1)
    for label, column in PLUS_COLUMN.items():
        truth[counts[:, columns.index(column)] >= MIN_VOTES] = label
    rng = np.random.default_rng(seed)
    pools = []
    for label in labels:
        pool: list[np.ndarray] = []
        for i in rng.permutation(np.flatnonzero(truth == label)):
            pool += keep_found([cv2.cvtColor(images[i], cv2.COLOR_GRAY2BGR)], 1.0, detect)
            if len(pool) == per_person:
                break
        pools.append(pool)
    return Faces("fer", pools)


def keep_found(sprites: list[np.ndarray], inner: float, detect: Detect) -> list[np.ndarray]:
    """The sprites whose face the detector finds (IoU >= 0.4) alone at 80 and 110 px."""
    from edge.ports import Frame

    from .detectors import IOU_FOUND, iou

    base = background()
    kept = []
    for sprite in sprites:
        for size in (80, 110):
            side = round(size / inner)
            frame = base.copy()
            _paste(frame, cv2.resize(sprite, (side, side), interpolation=cv2.INTER_CUBIC),
                   W // 2 - side // 2, H // 2 - side // 2)
            truth = (W // 2 - size // 2, H // 2 - size // 2, size, size)
            found = [b for b in detect(Frame(frame, "sprite", 0.0))
                     if iou(truth, (b.x, b.y, b.w, b.h)) >= IOU_FOUND]
            if not found:
                break
        else:
            kept.append(sprite)
    return kept


def background(seed: int = 0) -> np.ndarray:
    photo = cv2.imread(str(BACKGROUND))
    if photo is None:
        raise SystemExit(f"cannot read {BACKGROUND}")
    scale = max(W / photo.shape[1], H / photo.shape[0]) * 1.2
    big = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(seed)
    x = int(rng.integers(0, big.shape[1] - W + 1))
    y = int(rng.integers(0, big.shape[0] - H + 1))
    return np.ascontiguousarray(big[y:y + H, x:x + W])


def render(scene: Scene, faces: Faces, fer_labels: bool,
           seed: int = 0) -> Iterator[tuple[np.ndarray, list[Truth]]]:
    """Each frame of `scene` and its truth. Larger (closer) faces are drawn last."""
    rng = np.random.default_rng(seed)
    base = background(seed)
    visits = [0] * len(scene.people)
    was_in = [True] * len(scene.people)
    for n in range(int(scene.seconds * FPS) + 1):
        t = n / FPS
        frame = base.copy()
        truth = []
        placed = sorted(((p.at(t), i, p) for i, p in enumerate(scene.people)),
                        key=lambda item: item[0][2])
        for (cx, cy, size), i, person in placed:
            x, y = round(cx - size / 2), round(cy - size / 2)
            is_in = x >= 0 and y >= 0 and x + size <= W and y + size <= H
            if is_in and not was_in[i]:
                visits[i] += 1
            was_in[i] = is_in
            if not is_in or any(a <= t < b for a, b in person.hidden):
                continue
            side = round(size / faces.inner)
            sprite = cv2.resize(faces.face(i, n, rng), (side, side),
                                interpolation=cv2.INTER_CUBIC)
            _paste(frame, sprite, round(cx - side / 2), round(cy - side / 2))
            truth.append(Truth(f"{i}.{visits[i]}", i, (x, y, int(size), int(size)),
                               person.label if fer_labels else -1))
        yield frame, truth


def _paste(frame: np.ndarray, sprite: np.ndarray, x: int, y: int) -> None:
    h, w = sprite.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 > x0 and y1 > y0:
        frame[y0:y1, x0:x1] = sprite[y0 - y:y1 - y, x0 - x:x1 - x]
