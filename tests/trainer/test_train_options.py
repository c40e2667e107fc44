"""Training options that change how a step runs: precision, mixup, and the options that
reach the run's config (the network's shape, the targets' vote processing)."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from trainer.batches import _mixup  # noqa: E402
from trainer.config import resolve_precision  # noqa: E402


@pytest.mark.parametrize(("flags", "expected"), [
    ({"avx2", "amx_bf16", "amx_tile"}, "mixed_bfloat16"),
    ({"avx2", "avx512f", "avx512_bf16"}, "mixed_bfloat16"),
    ({"avx2", "fma"}, "float32"),  # AMD Zen 3: TensorFlow would emulate bf16, slower
    (set(), "float32"),
])
def test_auto_precision_follows_the_cpu_flags(flags: set[str], expected: str) -> None:
    assert resolve_precision("auto", flags) == expected


def test_an_explicit_precision_wins_and_a_typo_is_refused() -> None:
    assert resolve_precision("mixed_bfloat16", set()) == "mixed_bfloat16"
    assert resolve_precision("float32", {"amx_bf16"}) == "float32"
    with pytest.raises(ValueError, match="not one of"):
        resolve_precision("bf16")


def test_mixup_blends_faces_and_labels_with_the_same_weight() -> None:
    tf.random.set_seed(3)
    images = tf.constant(np.stack([np.full((48, 48, 1), v, np.uint8) for v in (0, 100, 200)]))
    labels = tf.one_hot([0, 1, 2], 7)
    mixed, soft = _mixup(images, labels, alpha=0.4)
    mixed, soft = mixed.numpy().astype(float), soft.numpy()
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=1e-5)
    # each face is one flat value: it must equal the label-weighted mean of the sources
    expected = soft[:, :3] @ np.array([0.0, 100.0, 200.0])
    np.testing.assert_allclose(mixed[:, 0, 0, 0], expected, atol=0.51)
    assert mixed.dtype == float and mixed.min() >= 0 and mixed.max() <= 255


def test_shape_and_vote_options_reach_the_run_config() -> None:
    import argparse

    from trainer.train_cli import _config, add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    cfg = _config(parser.parse_args(["--labels", "ferplus", "--drop-single-votes",
                                     "--separable"]))
    assert cfg.is_single_vote_dropped and cfg.is_separable
    default = _config(parser.parse_args([]))
    assert not default.is_single_vote_dropped and not default.is_separable
