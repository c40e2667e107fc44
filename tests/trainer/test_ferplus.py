"""FER+ votes: our label order, the strict majority, trainable faces, the crowd figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer.data import DataError, load_dataset
from trainer.ferplus import (
    COLUMNS,
    TO_OURS,
    Votes,
    agreement_metrics,
    attach_votes,
    default_ferplus_path,
    load_votes,
)


def _row(**counts: int) -> list[int]:
    return [counts.get(c, 0) for c in COLUMNS]


def test_column_map_puts_each_fer_plus_emotion_under_our_label() -> None:
    ours = [COLUMNS[c] for c in TO_OURS]
    assert ours == ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]


def test_majority_needs_one_of_our_emotions_strictly_ahead_of_every_column() -> None:
    votes = Votes(np.array([
        _row(happiness=6, neutral=4),        # happy
        _row(anger=4, disgust=4, sadness=2),  # tie for the top: no majority
        _row(contempt=5, anger=3, neutral=2),  # contempt wins: not ours
        _row(NF=10),                          # not a face
        _row(unknown=4, fear=3, surprise=3),  # unknown wins
        _row(fear=3, surprise=2, unknown=2, neutral=2, NF=1),  # fear, by plurality
    ]))
    assert votes.majority().tolist() == [3, -1, -1, -1, -1, 2]


def test_barsoum_majority_zeroes_single_votes_and_needs_more_than_half_of_the_rest() -> None:
    votes = Votes(np.array([
        _row(happiness=6, neutral=4),                      # happy: 6 of 10
        _row(sadness=4, neutral=3, anger=1, fear=1, NF=1),  # 4 of the 7 left after 1s go
        _row(sadness=4, neutral=4, anger=2),                # 4 of 10: no majority
        _row(contempt=6, anger=4),                          # contempt: dropped
        _row(unknown=6, fear=4),                            # unknown: dropped
        _row(fear=3, surprise=2, unknown=2, neutral=2, NF=1),  # 3 of 9: no majority
    ]))
    assert votes.barsoum_majority().tolist() == [3, 4, -1, -1, -1, -1]
    # our rule counts the plurality faces too
    assert votes.majority().tolist() == [3, 4, -1, -1, -1, 2]
    scores = np.eye(7)[[3, 6, 4, 0, 2, 2]]
    barsoum = agreement_metrics(scores, votes)["barsoum"]
    assert barsoum == {"accuracy": 0.5, "n": 2, "mean_recall": 0.5}


def test_strong_expressions_are_seven_votes_for_one_non_neutral_emotion() -> None:
    votes = Votes(np.array([
        _row(happiness=7, neutral=3),   # happy
        _row(neutral=8, sadness=2),     # neutral is never "strong"
        _row(fear=6, surprise=4),       # 6: not enough
        _row(anger=9, disgust=1),       # angry
    ]))
    assert votes.strong().tolist() == [3, -1, -1, 0]
    strong = agreement_metrics(np.eye(7)[[3, 6, 2, 6]], votes)["strong"]
    assert strong == {"accuracy": 0.5, "n": 2, "mean_recall": 0.5}


def test_distribution_is_the_share_of_our_seven_and_zero_without_emotion_votes() -> None:
    votes = Votes(np.array([_row(happiness=6, neutral=2, contempt=2), _row(NF=10)]))
    shares = votes.distribution()
    assert shares[0].tolist() == pytest.approx([0, 0, 0, 0.75, 0, 0, 0.25])
    assert shares[1].tolist() == [0.0] * 7
    assert votes.trainable().tolist() == [True, False]


def test_dropping_single_votes_keeps_a_face_whose_every_vote_is_single() -> None:
    votes = Votes(np.array([_row(happiness=6, sadness=1, neutral=3),
                            _row(anger=1, fear=1, sadness=1, neutral=1)]))
    shares = votes.distribution(is_single_vote_dropped=True)
    assert shares[0].tolist() == pytest.approx([0, 0, 0, 6 / 9, 0, 0, 3 / 9])
    assert shares[1].tolist() == pytest.approx(votes.distribution()[1].tolist())


def test_agreement_counts_every_emotion_the_same() -> None:
    # 3 happy faces, 1 sad face; the model calls all four happy
    votes = Votes(np.array([_row(happiness=8, neutral=2)] * 3 + [_row(sadness=7, neutral=3)]))
    scores = np.tile(np.eye(7, dtype=np.float32)[3] * 0.9 + 0.1 / 7, (4, 1))
    m = agreement_metrics(scores, votes)
    assert m["accuracy"] == 0.75 and m["n"] == 4
    assert m["recall"]["happy"] == 1.0 and m["recall"]["sad"] == 0.0
    # classes nobody's majority names count 0: the mean is over all 7 emotions
    assert m["mean_recall"] == pytest.approx(1 / 7)
    # confidence ~0.91 for answers right 3 times in 4
    assert m["ece"] == pytest.approx(abs(0.75 - scores[0].max()), abs=1e-6)


def test_votes_of_another_length_are_refused(tmp_path: Path) -> None:
    fer = tmp_path / "fer.npz"
    np.savez(fer, images=np.zeros((3, 48, 48), np.uint8), labels=np.zeros(3, np.uint8),
             usage=np.array([0, 1, 2], np.uint8))
    votes = tmp_path / "votes.npz"
    np.savez(votes, votes=np.zeros((4, 10), np.uint8))
    with pytest.raises(DataError, match="do not align"):
        load_votes(votes, fer)
    with pytest.raises(DataError, match="not found"):
        load_votes(tmp_path / "missing.npz", fer)


@pytest.mark.dataset
def test_real_votes_give_the_figures_the_data_readme_states(fer2013_path: Path) -> None:
    votes = default_ferplus_path(fer2013_path)
    if not votes.is_file():
        pytest.skip(f"FER+ votes not found at {votes} (ferplus.npz beside the FER2013 .npz, "
                    "or $EMOEDGE_FERPLUS)")
    data = attach_votes(load_dataset(fer2013_path), votes, fer2013_path)
    private = Votes(data.private.votes)  # type: ignore[arg-type]
    # issue 25 counts 3,349 PrivateTest faces with a clear majority among our 7
    assert int((private.majority() >= 0).sum()) == 3349
    # Barsoum et al.'s 7-class protocol keeps 3,136 of them (FACTS.md, issue 30)
    assert int((private.barsoum_majority() >= 0).sum()) == 3136
    # the model card counts 1,538 faces where 7 of 10 name one non-neutral emotion
    assert int((private.strong() >= 0).sum()) == 1538
    # the FER+ majority agrees with FER2013's label on ~62% of faces (data README)
    train = Votes(data.train.votes)  # type: ignore[arg-type]
    has = train.majority() >= 0
    agree = (train.majority()[has] == data.train.labels[has]).mean()
    assert 0.60 < agree < 0.70
