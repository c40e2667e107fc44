"""Calibrate each detector's crop rule: does detect -> crop -> classify match the classifier on
its own 48x48 crops?

    python -m benchmarks --only crop [--faces 600] [--data fer2013.npz] [--model M.tflite]

FER2013 PublicTest faces are upscaled to 96-160 px and pasted into 640x480 frames cut from a
real photo with no face (`scripts/demo_images/3-coffee-no-face.jpg`, CC0; random crops,
flips and brightness), gray like the faces. Each detector (opened with `open_detector`, as
the daemon does) looks for the face; the detection overlapping the pasted square most (IoU
>= 0.4) is cropped with each candidate rule and classified by the shipped classifier with the
daemon's settings. "direct" classifies the original 48x48 faces. Prints a markdown table.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from edge.classify import open_classifier
from edge.classify.config import ClassifierConfig
from edge.detect import open_detector
from edge.detect.config import DetectorConfig, HaarDetectorConfig, YunetDetectorConfig
from edge.ports import CropRule, EmotionClassifier, FaceBox, Frame

from . import REPO
from .detectors import FRAME, IOU_FOUND, iou

BACKGROUND = REPO / "scripts" / "demo_images" / "3-coffee-no-face.jpg"
FACES = 600  # pasted faces when --faces is not given

DETECTORS: dict[str, DetectorConfig] = {
    "Haar (v0.2 default)": HaarDetectorConfig(),
    "YuNet (default, 320x240)": YunetDetectorConfig(),
}
# None: the detector's own box as the crop (stretched to 48x48 if not square).
RULES: dict[str, tuple[CropRule | None, ...]] = {
    "Haar (v0.2 default)": (None, CropRule(0.9), CropRule(1.1), CropRule(1.0, 0.05),
                            CropRule(1.0, -0.05)),
    "YuNet (default, 320x240)": (
        None, CropRule(1.0), CropRule(1.1), CropRule(1.2), CropRule(1.25), CropRule(1.3),
        CropRule(1.4), CropRule(1.1, 0.05), CropRule(1.2, 0.05), CropRule(1.25, 0.05),
        CropRule(1.3, 0.05), CropRule(1.2, 0.1), CropRule(1.2, -0.05)),
}


@dataclass(frozen=True)
class Sample:
    frame: Frame
    truth: tuple[int, int, int, int]
    face: np.ndarray  # the original 48x48
    label: int


def backgrounds(rng: np.random.Generator, photo: np.ndarray) -> np.ndarray:
    """A 640x480 gray frame cut from the no-face photo."""
    scale = float(rng.uniform(1.1, 2.0)) * max(FRAME[0] / photo.shape[1],
                                               FRAME[1] / photo.shape[0])
    big = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    x = int(rng.integers(0, big.shape[1] - FRAME[0] + 1))
    y = int(rng.integers(0, big.shape[0] - FRAME[1] + 1))
    crop = big[y:y + FRAME[1], x:x + FRAME[0]]
    crop = crop[:, ::-1] if rng.random() < 0.5 else crop
    dimmed: np.ndarray = np.clip(crop.astype(np.float32) * rng.uniform(0.7, 1.2), 0, 255)
    dimmed = dimmed.astype(np.uint8)
    return dimmed


def make_samples(data: Path, n: int, seed: int = 0) -> list[Sample]:
    with np.load(data) as d:
        keep = d["usage"] == 1  # PublicTest
        faces, labels = d["images"][keep], d["labels"][keep]
    rng = np.random.default_rng(seed)
    photo = cv2.imread(str(BACKGROUND), cv2.IMREAD_GRAYSCALE)
    if photo is None:
        raise SystemExit(f"cannot read {BACKGROUND}")
    samples = []
    for k in rng.choice(len(faces), n, replace=False):
        side = int(rng.integers(96, 161))
        canvas = backgrounds(rng, photo)
        margin = side // 3  # room for crops wider than the face
        x = int(rng.integers(margin, FRAME[0] - side - margin))
        y = int(rng.integers(margin, FRAME[1] - side - margin))
        canvas[y:y + side, x:x + side] = cv2.resize(faces[k], (side, side),
                                                    interpolation=cv2.INTER_CUBIC)
        frame = Frame(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR), "calibration", 0.0)
        samples.append(Sample(frame, (x, y, side, side), faces[k], int(labels[k])))
    return samples


def best_match(boxes: list[FaceBox], truth: tuple[int, int, int, int]) -> FaceBox | None:
    scored = [(iou((b.x, b.y, b.w, b.h), truth), b) for b in boxes]
    best = max(scored, key=lambda s: s[0], default=(0.0, None))
    return best[1] if best[0] >= IOU_FOUND else None


def label_of(classifier: EmotionClassifier, frame: Frame, box: FaceBox) -> int:
    return classifier.labels.index(classifier.classify(frame, box).label)


def geometry(matches: list[FaceBox | None], samples: list[Sample]) -> str:
    """Medians of the rule that would turn each box exactly into the pasted square."""
    pairs = [(m, s.truth) for m, s in zip(matches, samples, strict=True) if m is not None]
    side = np.median([t[2] / m.w for m, t in pairs])
    dy = np.median([((t[1] + t[3] / 2) - (m.y + m.h / 2)) / m.h for m, t in pairs])
    aspect = np.median([m.h / m.w for m, _ in pairs])
    return f"box h/w {aspect:.2f}; pasted square = {side:.2f} x width, centre {dy:+.3f} x h"


def rule_name(rule: CropRule | None) -> str:
    if rule is None:
        return "the box as it is"
    return f"square {rule.side_per_width:g} x width, centre {rule.center_dy_per_height:+g} x h"


def lines(args: argparse.Namespace) -> Iterator[str]:
    """The Markdown table for `args.faces` (None: FACES) PublicTest faces of `args.data`, row
    by row."""
    cv2.setNumThreads(1)
    with open_classifier(ClassifierConfig(model_path=args.model)) as classifier:
        yield from _table(classifier, make_samples(args.data, args.faces or FACES))


def _table(classifier: EmotionClassifier, samples: list[Sample]) -> Iterator[str]:
    """Classifies `samples` through every detector and crop rule; yields the table."""
    direct = np.array([label_of(classifier, Frame(s.face, "fer", 0.0), FaceBox(0, 0, 48, 48))
                       for s in samples])
    truth = np.array([s.label for s in samples])
    n = len(samples)
    yield (f"{n} PublicTest faces, 96-160 px in 640x480 frames; classifier {classifier.model_name}"
           f" (daemon settings); direct on the 48x48 originals: {np.mean(direct == truth):.1%}")
    yield ""
    yield ("| detector | crop rule | found | end-to-end on found | direct on the same faces | "
           "difference | same label as direct | end-to-end on all (missed = wrong) |")
    yield "|---|---|---|---|---|---|---|---|"
    pasted = np.array([label_of(classifier, s.frame, FaceBox(*s.truth)) for s in samples])
    yield (f"| (no detector) | the pasted square itself | 100% | {np.mean(pasted == truth):.1%} | "
           f"{np.mean(direct == truth):.1%} | "
           f"{100 * (np.mean(pasted == truth) - np.mean(direct == truth)):+.1f} pts | "
           f"{np.mean(pasted == direct):.1%} | {np.mean(pasted == truth):.1%} |")
    notes = []
    for name, cfg in DETECTORS.items():
        with open_detector(cfg) as detector:
            matches = [best_match(detector.detect(s.frame), s.truth) for s in samples]
        notes.append(f"{name}: {geometry(matches, samples)}")
        found = np.array([m is not None for m in matches])
        for rule in RULES[name]:
            e2e = np.array([-1 if m is None else
                            label_of(classifier, s.frame, replace(m, crop_rule=rule))
                            for s, m in zip(samples, matches, strict=True)])
            ok, ref = e2e[found] == truth[found], direct[found] == truth[found]
            yield (f"| {name} | {rule_name(rule)} | {found.mean():.1%} | {ok.mean():.1%} | "
                   f"{ref.mean():.1%} | {100 * (ok.mean() - ref.mean()):+.1f} pts | "
                   f"{np.mean(e2e[found] == direct[found]):.1%} | "
                   f"{np.sum(e2e == truth) / n:.1%} |")
    yield ""
    yield "Geometry (medians over found faces): " + "; ".join(notes)
