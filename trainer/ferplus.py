"""FER+ crowd votes: 10 annotators per FER2013 face, aligned row by row to fer2013.npz.

Two uses: soft training targets (the share of annotators per emotion) and a second
yardstick (the annotators' majority, with every emotion's recall counted the same).
The votes come in FER+ column order; everything leaving this module is in ours.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from trainer.data import LABELS, DataError, FerData, Split

COLUMNS: tuple[str, ...] = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust",
                            "fear", "contempt", "unknown", "NF")
# FER+ column of each of our labels (angry, disgust, fear, happy, sad, surprise, neutral)
TO_OURS = np.array([4, 5, 6, 1, 3, 2, 0])
FERPLUS_ENV = "EMOEDGE_FERPLUS"


@dataclass(frozen=True)
class Votes:
    """Vote counts (n, 10) in FER+ column order for the faces of one split."""

    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.counts)

    def take(self, index: np.ndarray) -> Votes:
        return Votes(self.counts[index])

    @property
    def ours(self) -> np.ndarray:
        """Votes for our 7 emotions, in our label order (float32)."""
        return self.counts[:, TO_OURS].astype(np.float32)

    def distribution(self, is_single_vote_dropped: bool = False) -> np.ndarray:
        """Each face's share of emotion votes over our 7 (contempt, unknown, NF left out);
        all zeros where no annotator named one of our emotions. `is_single_vote_dropped`:
        Barsoum et al.'s processing, an emotion named by one annotator only is noise (a
        face whose every vote is single keeps them all)."""
        v = self.ours
        if is_single_vote_dropped:
            kept = np.where(v > 1, v, 0)
            v = np.where(kept.sum(1, keepdims=True) > 0, kept, v)
        total = v.sum(1, keepdims=True)
        shares: np.ndarray = np.divide(v, total, out=np.zeros_like(v), where=total > 0)
        return shares

    def majority(self) -> np.ndarray:
        """Our label with strictly more votes than every other column (contempt, unknown and
        NF included), else -1: the faces the annotators clearly call one of our emotions."""
        counts = self.counts.astype(np.int64)
        top = counts.argmax(1)
        top_votes = counts.max(1)
        unique = (counts == top_votes[:, None]).sum(1) == 1
        label = np.full(len(COLUMNS), -1)
        label[TO_OURS] = np.arange(len(TO_OURS))  # FER+ column -> our label, -1 for the rest
        majority: np.ndarray = np.where(unique, label[top], -1)
        return majority

    def barsoum_majority(self) -> np.ndarray:
        """The majority as Barsoum et al. (2016) count it, the figure papers report: single
        votes zeroed as noise, then one column must hold more than half of what is left,
        and faces whose majority is contempt, unknown or not-a-face are dropped (-1)."""
        counts = np.where(self.counts <= 1, 0, self.counts).astype(np.int64)
        top = counts.argmax(1)
        is_clear = counts.max(1) * 2 > counts.sum(1)
        label = np.full(len(COLUMNS), -1)
        label[TO_OURS] = np.arange(len(TO_OURS))
        majority: np.ndarray = np.where(is_clear, label[top], -1)
        return majority

    def strong(self, at_least: int = 7) -> np.ndarray:
        """Our label where `at_least` annotators name one non-neutral emotion, else -1: the
        closest this data has to posed, unmistakable expressions (issue 30's proxy for a
        cross-dataset check of posed faces)."""
        ours = self.counts[:, TO_OURS].astype(np.int64)
        ours[:, LABELS.index("neutral")] = 0
        is_strong = ours.max(1) >= at_least
        label: np.ndarray = np.where(is_strong, ours.argmax(1), -1)
        return label

    def trainable(self) -> np.ndarray:
        """Faces worth learning from: most of their votes name one of our 7 emotions.

        Faces whose votes go mostly to `unknown`, `NF` (not a face) or `contempt` (which
        we have no class for) would teach a distribution over a minority of annotators."""
        is_trainable: np.ndarray = self.ours.sum(1) > self.counts.sum(1) / 2
        return is_trainable


def emotion_faces(train: Split) -> tuple[Split, dict[str, int]]:
    """The faces worth learning from (`Votes.trainable`), and how many were dropped: what
    training fits on and what the card counts, in one place."""
    if train.votes is None:
        raise DataError("labels=ferplus needs the FER+ votes attached to the data")
    keep = Votes(train.votes).trainable()
    return train.take(keep), {"dropped_mostly_not_emotion": int((~keep).sum()),
                              "kept": int(keep.sum())}


def default_ferplus_path(fer2013: Path) -> Path:
    """$EMOEDGE_FERPLUS, else ferplus.npz beside the FER2013 file."""
    import os

    return Path(os.environ.get(FERPLUS_ENV) or fer2013.with_name("ferplus.npz"))


def load_votes(ferplus: Path, fer2013: Path) -> dict[str, Votes]:
    """The votes of each split, cut by the usage column of the .npz they are aligned to."""
    if fer2013.suffix != ".npz":
        raise DataError(f"FER+ votes are aligned row by row to fer2013.npz; {fer2013} is not an "
                        ".npz (pass --data with the .npz the votes were aligned to)")
    if not ferplus.is_file():
        raise DataError(f"FER+ votes not found: {ferplus} (pass --ferplus, or set "
                        f"${FERPLUS_ENV})")
    try:
        with np.load(ferplus) as f:
            counts = f["votes"]
        with np.load(fer2013) as d:
            usage = d["usage"]
    except (KeyError, OSError, ValueError) as e:
        raise DataError(f"{ferplus}: not a FER+ votes file ({e}; need a `votes` array)") from e
    if counts.shape != (len(usage), len(COLUMNS)):
        raise DataError(f"{ferplus}: votes of shape {counts.shape} do not align with the "
                        f"{len(usage)} faces of {fer2013} (need ({len(usage)}, 10))")
    return {name: Votes(counts[usage == i]) for i, name in
            enumerate(("Training", "PublicTest", "PrivateTest"))}


def attach_votes(data: FerData, ferplus: Path, fer2013: Path) -> FerData:
    """`data` with each split's FER+ vote counts in `Split.votes`."""
    votes = load_votes(ferplus, fer2013)
    parts = {name: replace(data.split(name), votes=votes[name].counts)
             for name in ("Training", "PublicTest", "PrivateTest")}
    for name, part in parts.items():
        if len(votes[name]) != len(part):
            raise DataError(f"{ferplus}: {len(votes[name])} {name} votes for {len(part)} faces")
    return replace(data, train=parts["Training"], public=parts["PublicTest"],
                   private=parts["PrivateTest"])


def targets(split: Split, label_mix: float, is_single_vote_dropped: bool = False) -> np.ndarray:
    """Training targets: the faces' vote shares (single votes dropped when asked), with
    `label_mix` of the FER2013 label."""
    if split.votes is None:
        raise DataError("FER+ targets need the votes attached (attach_votes)")
    onehot = np.eye(len(LABELS), dtype=np.float32)[split.labels]
    shares = Votes(split.votes).distribution(is_single_vote_dropped)
    mixed: np.ndarray = (1 - label_mix) * shares + label_mix * onehot
    return mixed.astype(np.float32)


def _ece(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.sum() * abs(correct[members].mean() - confidence[members].mean())
    return float(total / max(1, len(confidence)))


def agreement_metrics(scores: np.ndarray, votes: Votes) -> dict[str, object]:
    """How the model agrees with the annotators: majority accuracy (n faces with a clear
    majority among our 7), each emotion's recall and their mean, expected calibration
    error of the top score (15 bins), cross-entropy against the vote shares, and the
    accuracy on Barsoum's 7-class majority (`barsoum`) and on strong, non-neutral
    expressions (`strong`), each with its own n and mean recall."""
    majority = votes.majority()
    has = majority >= 0
    pred = scores.argmax(1)
    recalls = {name: float((pred[has & (majority == i)] == i).mean())
               if (has & (majority == i)).any() else 0.0 for i, name in enumerate(LABELS)}
    shares = votes.distribution()
    voted = shares.sum(1) > 0
    log_p = np.log(np.clip(scores[voted], 1e-6, 1.0))
    return {
        "accuracy": float((pred[has] == majority[has]).mean()), "n": int(has.sum()),
        "mean_recall": float(np.mean(list(recalls.values()))), "recall": recalls,
        "ece": _ece(scores[has].max(1), pred[has] == majority[has]),
        "cross_entropy": float(-(shares[voted] * log_p).sum(1).mean()),
        "predicted_share": {name: float((pred == i).mean()) for i, name in enumerate(LABELS)},
        "barsoum": _accuracy_on(pred, votes.barsoum_majority()),
        "strong": _accuracy_on(pred, votes.strong()),
    }


def _accuracy_on(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Accuracy on the faces with a label (>= 0), with their number and the mean recall over
    the emotions among them."""
    has = truth >= 0
    present = [i for i in range(len(LABELS)) if (truth == i).any()]
    recall = [float((pred[truth == i] == i).mean()) for i in present]
    return {"accuracy": float((pred[has] == truth[has]).mean()) if has.any() else 0.0,
            "n": int(has.sum()), "mean_recall": float(np.mean(recall)) if recall else 0.0}
