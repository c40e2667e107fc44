"""emotion-edge against the `fer` package, side by side in one run (issue 7): the sections
accuracy, e2e, classifier and startup of `python -m benchmarks`.

A Markdown table: accuracy on FER2013 PrivateTest (all of it and the part with no exact copy
in Training), end-to-end time per 640x480 frame with one face (median, p90), classifier time
per face, model size, MACs, and start-up time and peak RSS of a fresh process. Ours and fer
are measured alternately in the same process, so their ratios hold on a noisy machine;
absolute times do not. One thread for both: OpenCV, LiteRT, fer's TFLite interpreter, OMP
and TensorFlow. Needs the `bench` extra and fer (`pip install -e .[bench]`, then
`pip install --no-deps fer==25.10.3`); without fer the peer column says why and ours is
still measured.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from . import REPO
from .report import (
    Row,
    alternate,
    notes,
    ratio,
    render,
    section_command,
    section_table,
    timing_rows,
)
from .report import goal as goal_text

if TYPE_CHECKING:  # imported when a section runs: numpy must not load before __main__ is set
    from edge.classify.averaging import Averaging

SECTIONS = ("accuracy", "e2e", "classifier", "startup")
E2E = "End-to-end per 640x480 frame: file, detect, classify (ours: + MQTT publish)"
WARMUP = 3  # untimed end-to-end turns per side before the timed ones


@dataclass
class Bench:
    """What every section needs: options, the 640x480 frame file, and the peer (or why not)."""

    args: argparse.Namespace
    workdir: Path
    frame: Path
    peer: Any  # peer.FerPeer, or None when `skip` says why
    skip: str


def section_accuracy(b: Bench) -> list[Row]:
    """Our classifier with each test-time averaging (the default first) vs fer's, against
    FER2013's labels and, where the FER+ votes lie beside the data, the annotators'."""
    import numpy as np

    from trainer.data import DataError, clean_mask, load_dataset

    from .ours import face_scores, load_classifier

    try:
        data = load_dataset(b.args.data)
    except DataError as e:
        return [Row("Accuracy, FER2013 PrivateTest", f"skipped: {e}", f"skipped: {e}")]
    private = _with_votes(b, data).private
    is_clean = clean_mask(private, data.train)
    if b.args.faces is not None and b.args.faces < len(private):
        pick = np.sort(np.random.default_rng(0).permutation(len(private))[:b.args.faces])
        private, is_clean = private.take(pick), is_clean[pick]
    ours = {}
    for averaging in _averagings(b):
        with load_classifier(b.args.model, averaging) as classifier:
            ours[averaging] = face_scores(classifier, private.images)
    theirs = b.peer.classify_faces(private.images) if b.peer is not None else None
    part = " (random subset)" if len(private) < len(data.private) else ""
    rows = _label_rows(b, ours, theirs, private.labels, is_clean, part)
    if private.votes is not None:
        rows += _crowd_rows(b, ours, theirs, private.votes, part)
    return rows


def _with_votes(b: Bench, data: Any) -> Any:
    from trainer.ferplus import attach_votes, default_ferplus_path

    votes = default_ferplus_path(b.args.data)
    return attach_votes(data, votes, b.args.data) if (
        b.args.data.suffix == ".npz" and votes.is_file()) else data


def _label_rows(b: Bench, ours: dict[Averaging, Any], theirs: Any, labels: Any, is_clean: Any,
                part: str) -> list[Row]:
    default = _averagings(b)[0]
    specs = [(f"Accuracy, FER2013 PrivateTest, {_averaging_name(b, a)}", a, slice(None))
             for a in _averagings(b)]
    specs.append((f"Accuracy, clean PrivateTest (no exact copy in Training), {default}",
                  default, is_clean))
    peer_right = theirs.argmax(1) == labels if theirs is not None else None
    rows = []
    for name, averaging, where in specs:
        right = ours[averaging].argmax(1) == labels
        mine = float(right[where].mean()) * 100
        peer = float(peer_right[where].mean()) * 100 if peer_right is not None else None
        rows.append(Row(
            f"{name}{part}, n={len(right[where])} (%)", f"{mine:.1f}",
            f"{peer:.1f}" if peer is not None else b.skip,
            f"{mine - peer:+.1f} pts" if peer is not None else ""))
    return rows


def _crowd_rows(b: Bench, ours: dict[Averaging, Any], theirs: Any, votes: Any,
                part: str) -> list[Row]:
    """FER+ figures against the annotators (issue 30's yardstick): both majorities with their
    n, the mean per-emotion recall and each emotion's, ECE and cross-entropy vs the votes.
    The goals apply to the default averaging on the whole of PrivateTest."""
    from trainer.ferplus import Votes, agreement_metrics

    crowd = Votes(votes)
    peer = _crowd_figures(agreement_metrics(theirs, crowd)) if theirs is not None else None
    rows = []
    for averaging in _averagings(b):
        mine = _crowd_figures(agreement_metrics(ours[averaging], crowd))
        is_goal = averaging == _averagings(b)[0] and not part
        name = f"FER+ PrivateTest{part}, {_averaging_name(b, averaging)}"
        for key, (value, goal, met) in mine.items():
            other = peer[key][0] if peer else None
            digits, unit = (3, "") if key.startswith(("calibration", "cross")) else (1, " pts")
            rows.append(Row(f"{name}: {key}", f"{value:.{digits}f}",
                            f"{other:.{digits}f}" if other is not None else b.skip,
                            f"{value - other:+.{digits}f}{unit}" if other is not None else "",
                            goal_text(met, goal) if goal and is_goal else ""))
    return rows


def _crowd_figures(m: dict[str, Any]) -> dict[str, tuple[float, str, bool]]:
    """Row name -> (figure, issue 30's goal or "", whether it is met)."""
    majority, barsoum = 100 * m["accuracy"], 100 * m["barsoum"]["accuracy"]
    recall, ece = 100 * m["mean_recall"], float(m["ece"])
    figures = {
        f"majority accuracy, our rule, n={m['n']} (%)": (majority, ">= 86", majority >= 86),
        f"majority accuracy, Barsoum's 7-class, n={m['barsoum']['n']} (%)": (barsoum, "", False),
        "mean per-emotion recall (%)": (recall, ">= 78", recall >= 78),
    }
    for emotion, value in m["recall"].items():
        figures[f"recall of {emotion} (%)"] = (100 * value, ">= 60", 100 * value >= 60)
    figures["calibration error (ECE, 15 bins)"] = (ece, "<= 0.03", ece <= 0.03)
    figures["cross-entropy against the vote shares"] = (float(m["cross_entropy"]), "", False)
    return figures


def section_e2e(b: Bench) -> list[Row]:
    """Read the frame file, detect, classify (and publish, ours) per frame, in turns."""
    import cv2
    import numpy as np

    from .ours import edge_run

    frame = str(b.frame)
    peer_step = (lambda: b.peer.detect_emotions(cv2.imread(frame))) if b.peer else None
    with edge_run(b.args.model, b.frame, b.workdir) as run:
        results = []
        ours_ms, peer_ms = alternate(lambda: results.append(run.step()), peer_step,
                                     b.args.frames, warmup=WARMUP)
    rows = [Row("Faces found in the 640x480 frame", str(len(results[-1].faces)),
                str(len(b.peer.detect_emotions(cv2.imread(frame)))) if b.peer else b.skip)]
    rows += timing_rows(E2E, ours_ms, peer_ms, b.skip, 4.0)
    stages = {k: float(np.median([r.latency_ms[k] for r in results[WARMUP:]]))
              for k in ("capture", "detect", "classify")}
    stages["publish"] = float(np.median(run.publish_ms[WARMUP:]))
    rows.append(Row("Ours by stage, medians (ms)",
                    ", ".join(f"{k} {v:.2f}" for k, v in stages.items()), "n/a"))
    return rows


def section_classifier(b: Bench) -> list[Row]:
    """One face of the frame: crop, resize, scale, invoke, scores; plus size and MACs."""
    import cv2

    from edge.config import Settings
    from edge.detect import open_detector
    from edge.ports import Frame

    from .ours import load_classifier

    image = cv2.imread(str(b.frame), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read the benchmark frame {b.frame}")
    frame = Frame(image=image, source=str(b.frame), captured_at=0.0)
    with open_detector(Settings().detector) as detector:
        boxes = detector.detect(frame)
    if not boxes:
        raise SystemExit(f"no face found in {b.args.image}; pass --image with a frontal face")
    box = boxes[0]
    crop = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[box.y:box.y + box.h, box.x:box.x + box.w]
    peer_step = (lambda: b.peer.classify_faces([crop])) if b.peer else None
    rows = []
    for averaging in _averagings(b):
        with load_classifier(b.args.model, averaging) as ours:
            mine, theirs = alternate(partial(ours.classify, frame, box), peer_step,
                                     b.args.frames * 5, warmup=5)
        rows += timing_rows(f"Classifier per face, ours {_averaging_name(b, averaging)}", mine,
                            theirs, b.skip)
    return rows + _model_rows(b)


def _averagings(b: Bench) -> list[Averaging]:
    """Every test-time averaging, the model's default first (the contract checks that its
    default is one of them)."""
    from edge.classify.averaging import Averaging
    from edge.model_contract import load_contract

    default = load_contract(b.args.model).averaging
    averagings: tuple[Averaging, ...] = get_args(Averaging)
    return sorted(averagings, key=lambda a: a != default)


def _averaging_name(b: Bench, averaging: Averaging) -> str:
    from edge.classify.averaging import invokes

    default = " (the default)" if averaging == _averagings(b)[0] else ""
    n = invokes(averaging)
    return f"averaging={averaging}, {n} invoke{'s' if n > 1 else ''}{default}"


def _model_rows(b: Bench) -> list[Row]:
    """Size on disk; MACs from our sidecar (and counted from both graphs)."""
    import json

    from .ours import tflite_macs
    from .peer import fer_model_path

    sidecar = json.loads(b.args.model.with_suffix(".json").read_text())
    fer_path = fer_model_path() if b.peer else None
    size = b.args.model.stat().st_size / 1024
    fer_size = fer_path.stat().st_size / 1024 if fer_path else None
    macs, graph = int(sidecar.get("macs") or 0), tflite_macs(b.args.model)
    fer_macs = tflite_macs(fer_path) if fer_path else None
    return [Row("Model file size (KiB)", f"{size:.0f}",
                f"{fer_size:.0f}" if fer_size else b.skip,
                ratio(fer_size, size, "smaller", "larger") if fer_size else ""),
            Row("MACs per invoke (M; ours from the sidecar, graph count in brackets; "
                "each averaged view is one invoke)",
                f"{macs / 1e6:.1f} ({graph / 1e6:.1f})",
                f"{fer_macs / 1e6:.1f} (graph)" if fer_macs else b.skip,
                ratio(fer_macs, macs or graph, "fewer", "more") if fer_macs else "")]


def section_startup(b: Bench) -> list[Row]:
    """A fresh process per side, timed from spawn to its first result, with its peak RSS."""
    probe = [sys.executable, "-m", "benchmarks.probe"]
    edge_cmd = [*probe, "edge", "--image", str(b.frame), "--model", str(b.args.model)]
    fer_cmd = [*probe, "fer", "--image", str(b.frame)]
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for _ in range(b.args.probe_runs):  # in turns, like the other sections
        ours.append(_probe(edge_cmd))
        if b.peer is not None:
            theirs.append(_probe(fer_cmd))
    rows = []
    for key, name, unit, better, worse in (
            ("ready_s", "Start-up to first result, fresh process", "s", "faster", "slower"),
            ("peak_rss_mb", "Peak RSS of that process", "MB", "less", "more")):
        mine = statistics.median([r[key] for r in ours])
        peer = statistics.median([r[key] for r in theirs]) if theirs else None
        aim = goal_text(mine <= 120, "<= 120 MB") if key == "peak_rss_mb" else ""
        rows.append(Row(f"{name}, median of {len(ours)} ({unit})", f"{mine:.2f}",
                        f"{peer:.2f}" if peer is not None else b.skip,
                        ratio(peer, mine, better, worse) if peer else "", aim))
    has_tf = any(r["tensorflow"] for r in ours)
    rows.append(Row("TensorFlow imported by that process", "yes" if has_tf else "no",
                    ("yes" if theirs[0]["tensorflow"] else "no") if theirs else b.skip,
                    "", goal_text(not has_tf, "none on the edge")))
    return rows


def _probe(cmd: list[str]) -> dict[str, Any]:
    """Run the probe (from the repository root, where `benchmarks` imports); ready_s is the
    wall time from spawn to its JSON line."""
    import json

    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, cwd=REPO)
        line = proc.stdout.readline() if proc.stdout else ""
        ready_s = time.perf_counter() - start
        proc.communicate(timeout=120)
        if proc.returncode != 0 or not line:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-5:]
            raise SystemExit(f"{shlex.join(cmd)} failed ({proc.returncode}): " + " / ".join(tail))
    return {**json.loads(line), "ready_s": ready_s}


SECTION_RUNNERS = {"accuracy": section_accuracy, "e2e": section_e2e,
                   "classifier": section_classifier, "startup": section_startup}


def load_peer(args: argparse.Namespace) -> tuple[Any, str]:
    """The fer peer with one thread, or None and the reason it is skipped."""
    from .peer import load_peer as load
    from .peer import peer_problem

    if args.no_peer:
        return None, "skipped (--no-peer)"
    problem = peer_problem()
    return (None, f"skipped: {problem}") if problem else (load(num_threads=1), "")


def _timed(name: str, run: Any, bench: Bench) -> list[Row]:
    start = time.perf_counter()
    rows: list[Row] = run(bench)
    print(f"bench: {name} took {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return rows


@dataclass(frozen=True)
class Tables:
    """A run's Markdown: `markdown`, the one table with every section that ran (what is
    printed), and `bodies`, each section's rows as a table of its own (for the docs)."""

    markdown: str
    bodies: dict[str, str]


def run(args: argparse.Namespace, argv: list[str], names: list[str]) -> Tables:
    """The sections `names` asks for, in their fixed order, as one Markdown table whose
    footnotes give the command that reruns each section (`argv`: this run's options)."""
    from .machine import describe
    from .ours import make_frame

    machine = describe()  # before our own load
    peer, skip = load_peer(args)
    with tempfile.TemporaryDirectory(prefix="emotion-edge-bench-") as tmp:
        frame = make_frame(args.image, Path(tmp) / "frame-640x480.jpg")
        bench = Bench(args, Path(tmp), frame, peer, skip)
        sections = {name: _timed(name, SECTION_RUNNERS[name], bench)
                    for name in SECTIONS if name in names}
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    peer_name = f"fer {peer.version}" if peer else "fer"
    markdown = render(f"emotion-edge vs fer, {stamp}", notes(args, peer, skip, machine), sections,
                      {name: section_command(REPO, argv, name) for name in sections}, peer_name)
    return Tables(markdown, {name: section_table(rows, peer_name)
                             for name, rows in sections.items()})
