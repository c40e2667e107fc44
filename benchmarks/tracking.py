"""Which tracker follows faces as people, and what per-person smoothing is worth.

    python -m benchmarks --only tracking [--photos DIR] [--data fer2013.npz] [--quick]

The sequences of `scenes.py` (real faces crossing, passing close, hiding, leaving and coming
back, five at once; 5 frames per second) go through the daemon's detector (YuNet, default
settings) and classifier (the shipped model, continuous mode's averaging) once; every
tracker candidate then runs on the same detections:
- IoU against each track's box moved at its last velocity, paired by `lap` (Jonker-Volgenant):
  the one the daemon uses, `edge.continuous.tracking.FaceTracker`;
- norfair (`norfair-enough`, the maintained fork; norfair 2.3 pins numpy<2): IoU, Kalman;
- a plain IoU assignment, Hungarian (`scipy.optimize.linear_sum_assignment`), no motion model;
- ByteTrack as packaged in Roboflow's `trackers` 2.6.
Identity figures (IDF1, identity switches) come from `motmetrics`, matching a detection to
the truth at IoU >= 0.4. Per-person accuracy (`fer` faces, known expression) is counted on
every truth face the detector found, by what a subscriber would hold for that person:
per frame (no smoothing), today's largest-face smoothing (the window of the largest face's
scores, given to the largest face; others per frame), and per-track smoothing (each person
averaged over their own frames; a face whose track is not yet confirmed counts as wrong).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from edge.continuous.config import ContinuousConfig
from edge.continuous.people import People
from edge.continuous.tracking import FaceTracker
from edge.ports import Emotion, FaceBox, Frame

from . import scenes as sc
from .detectors import IOU_FOUND, iou

Track = Callable[[Sequence[FaceBox]], list[int | None]]
CFG = ContinuousConfig(is_enabled=True)  # the daemon's defaults
LOST_FRAMES = int(np.ceil(CFG.track_lost_s * sc.FPS))
FER_SEEDS = 3


class HungarianIou:
    """The plain candidate: last box per track, 1 - IoU costs, optimal assignment."""

    def __init__(self, confirm: int, lost: int, min_iou: float = 0.1) -> None:
        from scipy.optimize import linear_sum_assignment

        self._assign = linear_sum_assignment
        self.confirm, self.lost, self.min_iou = confirm, lost, min_iou
        self._tracks: dict[int, list[float]] = {}  # id -> [x, y, w, h, hits, misses]
        self._next = 1

    def update(self, boxes: Sequence[FaceBox]) -> list[int | None]:
        ids = list(self._tracks)
        cost = np.ones((len(ids), len(boxes)))
        for r, k in enumerate(ids):
            for c, b in enumerate(boxes):
                cost[r, c] = 1 - iou(tuple(self._tracks[k][:4]), (b.x, b.y, b.w, b.h))  # type: ignore[arg-type]
        out: list[int | None] = [None] * len(boxes)
        taken = set()
        for r, c in zip(*self._assign(cost), strict=True):
            if 1 - cost[r, c] >= self.min_iou:
                t = self._tracks[ids[r]]
                t[:4], t[4], t[5] = [boxes[c].x, boxes[c].y, boxes[c].w, boxes[c].h], t[4] + 1, 0
                taken.add(c)
                out[c] = ids[r] if t[4] >= self.confirm else None
        for k in ids:
            if self._tracks[k][5] >= 0 and k not in {out[c] for c in taken}:
                self._tracks[k][5] += 1
                if self._tracks[k][5] > self.lost:
                    del self._tracks[k]
        for c, b in enumerate(boxes):
            if c not in taken:
                self._tracks[self._next] = [b.x, b.y, b.w, b.h, 1, 0]
                out[c] = self._next if self.confirm <= 1 else None
                self._next += 1
        return out


class ByteTrack:
    """Roboflow `trackers` ByteTrack over `supervision` detections."""

    def __init__(self, confirm: int, lost: int) -> None:
        from trackers import ByteTrackTracker

        self._tracker = ByteTrackTracker(lost_track_buffer=lost, frame_rate=sc.FPS,
                                         minimum_consecutive_frames=confirm)

    def update(self, boxes: Sequence[FaceBox]) -> list[int | None]:
        import supervision as sv

        xyxy = np.array([[b.x, b.y, b.x + b.w, b.y + b.h] for b in boxes], dtype=float)
        dets = sv.Detections(xyxy=xyxy.reshape(-1, 4), data={"i": np.arange(len(boxes))})
        out: list[int | None] = [None] * len(boxes)
        got = self._tracker.update(dets)
        tids = [] if got.tracker_id is None else [int(t) for t in got.tracker_id]
        for i, tid in zip(got.data.get("i", []), tids, strict=True):
            out[int(i)] = int(tid) if tid >= 0 else None
        return out


class Norfair:
    """norfair-enough (the maintained norfair fork): IoU distance, Kalman filter."""

    def __init__(self, confirm: int, lost: int) -> None:
        from norfair import Tracker

        self._frame = 0
        self._tracker = Tracker(distance_function="iou", distance_threshold=0.95,
                                hit_counter_max=lost, initialization_delay=confirm - 1)

    def update(self, boxes: Sequence[FaceBox]) -> list[int | None]:
        from norfair import Detection

        self._frame += 1
        dets = [Detection(np.array([[b.x, b.y], [b.x + b.w, b.y + b.h]], dtype=float),
                          data=(self._frame, i)) for i, b in enumerate(boxes)]
        out: list[int | None] = [None] * len(boxes)
        for tracked in self._tracker.update(dets):
            frame, i = tracked.last_detection.data
            if tracked.id is not None and frame == self._frame:  # matched in this frame
                out[i] = tracked.id
        return out


IMPORTS = {"IoU, velocity, lap (shipped)": "lap", "norfair-enough 2.4 (IoU, Kalman)": "norfair",
           "IoU + Hungarian (scipy)": "scipy.optimize", "ByteTrack (trackers 2.6)": "trackers"}
_IMPORT_PROBE = """
import importlib, json, sys, time
import cv2, numpy  # the daemon has these already
def rss():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1])
before, t0 = rss(), time.perf_counter()
importlib.import_module(sys.argv[1])
print(json.dumps([(rss() - before) / 1024, time.perf_counter() - t0]))
"""

CANDIDATES: dict[str, Callable[[], Track]] = {
    "IoU, velocity, lap (shipped)": lambda: FaceTracker.for_rate(
        CFG.track_confirm_frames, CFG.track_lost_s, sc.FPS).update,
    "norfair-enough 2.4 (IoU, Kalman)": lambda: Norfair(CFG.track_confirm_frames,
                                                        LOST_FRAMES).update,
    "IoU + Hungarian (scipy)": lambda: HungarianIou(CFG.track_confirm_frames, LOST_FRAMES).update,
    "ByteTrack (trackers 2.6)": lambda: ByteTrack(CFG.track_confirm_frames, LOST_FRAMES).update,
}


@dataclass
class Seen:
    """One frame after detection and classification."""

    truth: list[sc.Truth]
    boxes: list[FaceBox]
    emotions: list[Emotion]
    detect_ms: float


@dataclass
class Tally:
    ms_by_faces: dict[int, list[float]] = field(default_factory=dict)


def detect_all(frames: Iterator[tuple[np.ndarray, list[sc.Truth]]], detector: object,
               classifier: object) -> list[Seen]:
    seen = []
    averaging = classifier.averagings["continuous"]  # type: ignore[attr-defined]
    for image, truth in frames:
        frame = Frame(image, "tracking", 0.0)
        t0 = time.perf_counter()
        boxes = detector.detect(frame)  # type: ignore[attr-defined]
        ms = (time.perf_counter() - t0) * 1000
        emotions = [classifier.classify(frame, b, averaging=averaging)  # type: ignore[attr-defined]
                    for b in boxes]
        seen.append(Seen(truth, boxes, emotions, ms))
    return seen


def on_truth(seq: list[Seen], seed: int = 0) -> list[Seen]:
    """The same frames with the truth boxes as the detections (in a shuffled order): the
    tracker alone, without the detector's misses."""
    rng = np.random.default_rng(seed)
    out = []
    for s in seq:
        order = rng.permutation(len(s.truth))
        out.append(Seen(s.truth, [FaceBox(*s.truth[i].box) for i in order], [], 0.0))
    return out


def matches(seen: Seen) -> dict[int, int]:
    """Truth index -> detection index, the best IoU >= IOU_FOUND, one to one."""
    pairs = sorted(((iou(t.box, (b.x, b.y, b.w, b.h)), ti, bi)
                    for ti, t in enumerate(seen.truth) for bi, b in enumerate(seen.boxes)),
                   reverse=True)
    out: dict[int, int] = {}
    for score, ti, bi in pairs:
        if score >= IOU_FOUND and ti not in out and bi not in out.values():
            out[ti] = bi
    return out


def run_tracker(track: Track, seq: list[Seen], tally: Tally) -> list[list[int | None]]:
    ids = []
    for s in seq:
        t0 = time.perf_counter()
        ids.append(track(s.boxes))
        tally.ms_by_faces.setdefault(len(s.boxes), []).append((time.perf_counter() - t0) * 1000)
    return ids


def identity(seq: list[Seen], ids: list[list[int | None]]) -> tuple[float, int]:
    """(IDF1, identity switches) from motmetrics."""
    import motmetrics as mm

    acc = mm.MOTAccumulator(auto_id=True)
    for s, frame_ids in zip(seq, ids, strict=True):
        hyp = [(k, b) for k, b in zip(frame_ids, s.boxes, strict=True) if k is not None]
        dist = [[1 - v if (v := iou(t.box, (b.x, b.y, b.w, b.h))) >= IOU_FOUND else np.nan
                 for _, b in hyp] for t in s.truth]
        acc.update([t.visit for t in s.truth], [k for k, _ in hyp], dist)
    summary = mm.metrics.create().compute(acc, metrics=["idf1", "num_switches"], name="s")
    return float(summary["idf1"].iloc[0]), int(summary["num_switches"].iloc[0])


def accuracy(seq: list[Seen], ids: list[list[int | None]], labels: Sequence[str],
             lost_s: float = CFG.track_lost_s) -> tuple[float, float, float, int]:
    """Per-person accuracy: per frame, largest-face smoothing, per-track smoothing; count."""
    window: deque[dict[str, float] | None] = deque(maxlen=CFG.window_frames)
    people = People(CFG.window_frames, lost_s)
    right = np.zeros(3)
    total = 0
    for n, (s, frame_ids) in enumerate(zip(seq, ids, strict=True)):
        now = n / sc.FPS
        largest = max(range(len(s.boxes)), key=lambda i: s.boxes[i].area, default=None)
        window.append(dict(s.emotions[largest].scores) if largest is not None else None)
        kept = [w for w in window if w is not None]
        smooth = (max(labels, key=lambda k: sum(w[k] for w in kept))
                  if kept and len(kept) * 2 >= len(window) else None)
        tracked = {i: people.observe(k, s.emotions[i].scores, now, now)[1].label
                   for i, k in enumerate(frame_ids) if k is not None}
        people.end_lost(now, {k for k in frame_ids if k is not None}, "bench", "m")
        for ti, bi in matches(s).items():
            truth = labels[s.truth[ti].label]
            per_frame = s.emotions[bi].label
            right += (per_frame == truth,
                      (smooth if bi == largest and smooth else per_frame) == truth,
                      tracked.get(bi) == truth)
            total += 1
    a, b, c = (float(x) for x in right / max(total, 1))
    return a, b, c, total


def lines(args: argparse.Namespace) -> Iterator[str]:
    """The Markdown tables, row by row."""
    from edge.classify import open_classifier
    from edge.classify.config import ClassifierConfig
    from edge.detect import open_detector
    from edge.detect.config import YunetDetectorConfig
    from trainer.ferplus import default_ferplus_path

    from .detectors import default_photos

    all_scenes = sc.scenes()
    fer_labels = sorted({p.label for s in all_scenes for p in s.people})
    with open_detector(YunetDetectorConfig()) as detector, \
            open_classifier(ClassifierConfig(model_path=args.model)) as classifier:
        photos = sc.photo_faces(args.photos or default_photos(), detector.detect)
        data = [("photos", scene.name, detect_all(sc.render(scene, photos, False), detector,
                                                  classifier)) for scene in all_scenes]
        for seed in range(1 if args.quick else FER_SEEDS):  # other faces, another background
            pools = sc.fer_faces(args.data, default_ferplus_path(args.data), fer_labels,
                                 detector.detect, seed).images
            for scene in all_scenes:  # each person's faces are their label's
                faces = sc.Faces("fer", [pools[fer_labels.index(p.label)] for p in scene.people])
                frames = sc.render(scene, faces, True, seed)
                data.append((f"fer {seed}", scene.name, detect_all(frames, detector, classifier)))
        yield from _tables(data, classifier.labels)
        yield ""
        yield from _sweep(data, classifier.labels)
    yield ""
    yield from _import_costs()
    from . import daemon_rss

    yield ""
    yield from daemon_rss.lines(args.photos or default_photos(), args.model,
                                8.0 if args.quick else 30.0)


def _tables(data: list[tuple[str, str, list[Seen]]], labels: Sequence[str]) -> Iterator[str]:
    tallies = {name: Tally() for name in CANDIDATES}
    frames = sum(len(seq) for _, _, seq in data)
    yield (f"{len(data)} sequences, {frames} frames at {sc.FPS:g} fps, 640x480; YuNet default "
           f"settings; track_confirm_frames {CFG.track_confirm_frames}, track_lost_s "
           f"{CFG.track_lost_s:g}, window_frames {CFG.window_frames}")
    yield ""
    yield ("IDF1 / identity switches (motmetrics), on the truth boxes (the tracker alone) and "
           "on YuNet's detections (with its misses)")
    yield ""
    yield "| faces | sequence | " + " | ".join(
        f"{n}: truth | YuNet" for n in CANDIDATES) + " |"
    yield "|---|---|" + "---|---|" * len(CANDIDATES)
    acc_rows = []
    for kind, name, seq in data:
        cells = []
        for cand, make in CANDIDATES.items():
            alone = identity(truth_seq := on_truth(seq), run_tracker(make(), truth_seq, Tally()))
            ids = run_tracker(make(), seq, tallies[cand])
            idf1, switches = identity(seq, ids)
            cells += [f"{alone[0]:.3f} / {alone[1]}", f"{idf1:.3f} / {switches}"]
            if kind.startswith("fer") and cand == next(iter(CANDIDATES)):
                acc_rows.append((f"{name} ({kind})", *accuracy(seq, ids, labels)))
        yield f"| {kind} | {name} | " + " | ".join(cells) + " |"
    yield ""
    yield from _times(tallies, data)
    yield ""
    yield ("| fer sequence | person-frames | per frame | largest-face smoothing (before) | "
           "per-track smoothing (shipped tracker) |")
    yield "|---|---|---|---|---|"
    for name, frame_acc, largest, tracked, n in acc_rows:
        yield f"| {name} | {n} | {frame_acc:.1%} | {largest:.1%} | {tracked:.1%} |"
    n_all = sum(r[4] for r in acc_rows)
    mean = [sum(float(r[i]) * r[4] for r in acc_rows) / n_all for i in (1, 2, 3)]
    yield f"| all | {n_all} | {mean[0]:.1%} | {mean[1]:.1%} | {mean[2]:.1%} |"


def _times(tallies: dict[str, Tally], data: list[tuple[str, str, list[Seen]]]) -> Iterator[str]:
    detect = statistics.median(s.detect_ms for _, _, seq in data for s in seq)
    base = next(iter(tallies.values()))
    counts = sorted(k for k in base.ms_by_faces if 1 <= k <= 5)
    yield (f"Tracking time per frame, median ms (frames), by faces detected; the YuNet detection "
           f"of the same frames: {detect:.2f} ms median")
    yield ""
    yield "| tracker | " + " | ".join(f"{k} face{'s' if k > 1 else ''}" for k in counts) + \
        " | vs shipped (all frames) |"
    yield "|---|" + "---|" * (len(counts) + 1)
    ref = statistics.median(v for vals in base.ms_by_faces.values() for v in vals)
    for name, tally in tallies.items():
        cells = [f"{statistics.median(tally.ms_by_faces[k]):.3f} ({len(tally.ms_by_faces[k])})"
                 for k in counts]
        alls = statistics.median(v for vals in tally.ms_by_faces.values() for v in vals)
        yield f"| {name} | " + " | ".join(cells) + f" | {alls / ref:.2f}x |"


def _sweep(data: list[tuple[str, str, list[Seen]]], labels: Sequence[str]) -> Iterator[str]:
    """The shipped tracker over the settings' candidates: how the two settings trade."""
    yield ("The shipped tracker by track settings, on YuNet's detections: IDF1 (lowest, mean "
           "over the sequences), identity switches (all), per-track accuracy (fer faces)")
    yield ""
    yield "| track_confirm_frames | track_lost_s | IDF1 lowest | IDF1 mean | switches | accuracy |"
    yield "|---|---|---|---|---|---|"
    for confirm in (1, 2, 3):
        for lost_s in (1.0, 2.0, 3.0):
            idf1s, switches, right, total = [], 0, 0.0, 0
            for kind, _, seq in data:
                ids = run_tracker(FaceTracker.for_rate(confirm, lost_s, sc.FPS).update, seq,
                                  Tally())
                idf1, n = identity(seq, ids)
                idf1s.append(idf1)
                switches += n
                if kind.startswith("fer"):
                    *_, tracked, count = accuracy(seq, ids, labels, lost_s)
                    right, total = right + tracked * count, total + count
            mark = " (default)" if (confirm, lost_s) == (CFG.track_confirm_frames,
                                                       CFG.track_lost_s) else ""
            yield (f"| {confirm}{mark} | {lost_s:g} | {min(idf1s):.3f} | "
                   f"{statistics.mean(idf1s):.3f} | {switches} | {right / max(total, 1):.1%} |")


def _import_costs() -> Iterator[str]:
    """What importing each candidate adds to a process that has OpenCV and numpy (a fresh
    process each, median of 3)."""
    import json
    import subprocess
    import sys

    yield "Import cost of each candidate in a fresh process that already has cv2 and numpy"
    yield ""
    yield "| tracker | module | RSS added (MB) | import time (s) |"
    yield "|---|---|---|---|"
    for name, module in IMPORTS.items():
        runs = [json.loads(subprocess.run([sys.executable, "-c", _IMPORT_PROBE, module],
                                          capture_output=True, text=True, check=True).stdout)
                for _ in range(3)]
        rss = statistics.median(r[0] for r in runs)
        seconds = statistics.median(r[1] for r in runs)
        yield f"| {name} | `{module}` | {rss:.1f} | {seconds:.2f} |"
