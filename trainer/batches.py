"""What the network is fed: the Training faces kept, and batches with their augmentation.

A training epoch's order and augmentation follow from (seed, epoch) alone, so a resumed run
sees the faces an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import tensorflow as tf

from trainer.config import TrainConfig
from trainer.data import LABELS, FerData, Split, clean_training, limit_split


def prepare_training(data: FerData, cfg: TrainConfig) -> tuple[Split, dict[str, int]]:
    train, notes = (clean_training(data.train) if cfg.drop_duplicates
                    else (data.train, {"kept": len(data.train)}))
    if cfg.labels == "ferplus":
        from trainer.ferplus import emotion_faces

        train, dropped = emotion_faces(train)
        notes = {**notes, **dropped}
    return limit_split(train, cfg.limit, cfg.seed), notes


def _augmenter(cfg: TrainConfig) -> keras.Sequential:
    a = cfg.augment
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=cfg.seed),
        keras.layers.RandomRotation(a["rotation"], fill_mode="reflect", seed=cfg.seed),
        keras.layers.RandomTranslation(a["shift"], a["shift"], fill_mode="reflect",
                                       seed=cfg.seed),
        keras.layers.RandomZoom(a["zoom"], fill_mode="reflect", seed=cfg.seed),
    ], name="augment")


def _photometric(images: tf.Tensor, cfg: TrainConfig) -> tf.Tensor:
    """Per-face contrast/brightness jitter and one random erased square (cutout)."""
    a = cfg.augment
    n = tf.shape(images)[0]
    x = tf.cast(images, tf.float32)
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    contrast = tf.random.uniform([n, 1, 1, 1], 1 - a["contrast"], 1 + a["contrast"])
    bright = tf.random.uniform([n, 1, 1, 1], -a["brightness"], a["brightness"]) * 255.0
    x = (x - mean) * contrast + mean + bright
    size = 48
    cy = tf.random.uniform([n, 1, 1, 1], 0, size)
    cx = tf.random.uniform([n, 1, 1, 1], 0, size)
    half = tf.random.uniform([n, 1, 1, 1], 4, 12)
    grid = tf.range(size, dtype=tf.float32)
    inside = (tf.abs(grid[None, :, None, None] - cy) < half) & (
        tf.abs(grid[None, None, :, None] - cx) < half)
    erase = tf.random.uniform([n, 1, 1, 1]) < a["erase"]
    x = tf.where(inside & erase, mean, x)
    return tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)


def _mixup(images: tf.Tensor, labels: tf.Tensor, alpha: float) -> tuple[tf.Tensor, tf.Tensor]:
    """Blend each face with a random partner of the batch, and their labels alike."""
    n = tf.shape(images)[0]
    g1 = tf.random.gamma([n], alpha)
    g2 = tf.random.gamma([n], alpha)
    lam = g1 / (g1 + g2 + 1e-7)
    partner = tf.random.shuffle(tf.range(n))
    x = tf.cast(images, tf.float32)
    lam_x = lam[:, None, None, None]
    mixed = lam_x * x + (1 - lam_x) * tf.gather(x, partner)
    y = lam[:, None] * labels + (1 - lam[:, None]) * tf.gather(labels, partner)
    return tf.cast(tf.clip_by_value(tf.round(mixed), 0, 255), tf.uint8), y


def make_dataset(split: Split, cfg: TrainConfig, training: bool,
                 targets: np.ndarray | None = None, epoch: int = 0) -> tf.data.Dataset:
    """Batches of (uint8 faces, targets); targets default to the one-hot labels.

    A training set is one epoch whose order and augmentation follow from (seed, epoch)
    alone, so a resumed run sees the faces an uninterrupted one would."""
    x = split.images[..., None]
    y = (keras.utils.to_categorical(split.labels, len(LABELS)).astype("float32")
         if targets is None else targets)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    seeded = replace(cfg, seed=cfg.seed + 1000 * epoch)
    if training:
        tf.random.set_seed(seeded.seed)  # the photometric ops' seeds derive from it
        ds = ds.shuffle(len(split), seed=seeded.seed, reshuffle_each_iteration=False)
    ds = ds.batch(cfg.batch_size)
    if training:
        cfg = seeded
        augment = _augmenter(cfg)
        ds = ds.map(lambda a, b: (_photometric(
            tf.cast(tf.round(augment(tf.cast(a, tf.float32), training=True)), tf.uint8),
            cfg), b))  # in order: parallel calls draw random numbers in any order
        if cfg.mixup > 0:
            ds = ds.map(lambda a, b: _mixup(a, b, cfg.mixup))
    return ds.prefetch(tf.data.AUTOTUNE)
