"""Fit the CNN on Training, pick the best epoch on PublicTest, leave a run folder behind.

The run folder holds everything the report and the converter need: `model.keras` (the
best PublicTest checkpoint), `history.csv`, `train.json` (config, data notes, throughput).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from trainer.data import LABELS, FerData, Split, clean_training, limit_split
from trainer.model import DEFAULT_BLOCKS, ModelShape, build_model, count_macs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 80
    batch_size: int = 128
    seed: int = 1234
    learning_rate: float = 2e-3
    weight_decay: float = 0.05
    warmup_epochs: int = 2
    label_smoothing: float = 0.1
    patience: int = 30
    limit: int | None = None
    drop_duplicates: bool = True
    init_from: str | None = None  # a run's .keras, or a shipped .tflite, to continue from
    blocks: tuple[tuple[int, int], ...] = DEFAULT_BLOCKS
    dropout: float = 0.4
    precision: str = "auto"  # auto | float32 | mixed_bfloat16 (see resolve_precision)
    # Off in the shipped recipe: neither paid in the fine-tunes of models/README.md
    mixup: float = 0.0  # Beta(a, a) mixing of face pairs, e.g. 0.2; 0 turns it off
    ema: float = 0.0  # momentum of the weight average validated and saved, e.g. 0.999; 0: off
    distill_from: str | None = None  # a teacher (.keras or .tflite) whose crops scores to learn
    distill_weight: float = 0.5  # share of the teacher's scores in each target
    augment: dict[str, float] = field(default_factory=lambda: {
        "rotation": 0.04, "shift": 0.1, "zoom": 0.1, "contrast": 0.3,
        "brightness": 0.2, "erase": 0.25})


PRECISIONS = ("auto", "float32", "mixed_bfloat16")


def resolve_precision(name: str, cpu_flags: set[str] | None = None) -> str:
    """`auto` picks bf16 only where the CPU runs it natively (AMX or AVX-512 BF16).

    Without those units TensorFlow emulates bf16 and a step gets slower, not faster.
    """
    if name not in PRECISIONS:
        raise ValueError(f"precision {name!r} is not one of {PRECISIONS}")
    if name != "auto":
        return name
    flags = _cpu_flags() if cpu_flags is None else cpu_flags
    return "mixed_bfloat16" if flags & {"amx_bf16", "avx512_bf16"} else "float32"


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def prepare_training(data: FerData, cfg: TrainConfig) -> tuple[Split, dict[str, int]]:
    train, notes = (clean_training(data.train) if cfg.drop_duplicates
                    else (data.train, {"kept": len(data.train)}))
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
                 targets: np.ndarray | None = None) -> tf.data.Dataset:
    """Batches of (uint8 faces, targets); targets default to the one-hot labels."""
    x = split.images[..., None]
    y = (keras.utils.to_categorical(split.labels, len(LABELS)).astype("float32")
         if targets is None else targets)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        ds = ds.shuffle(len(split), seed=cfg.seed, reshuffle_each_iteration=True)
    ds = ds.batch(cfg.batch_size)
    if training:
        augment = _augmenter(cfg)
        ds = ds.map(lambda a, b: (_photometric(
            tf.cast(tf.round(augment(tf.cast(a, tf.float32), training=True)), tf.uint8),
            cfg), b), num_parallel_calls=tf.data.AUTOTUNE)
        if cfg.mixup > 0:
            ds = ds.map(lambda a, b: _mixup(a, b, cfg.mixup),
                        num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _continue_from(model: keras.Model, path: Path, train: Split, cfg: TrainConfig) -> None:
    if path.suffix == ".tflite":
        from trainer.warm_start import load_int8_weights  # LiteRT only when asked

        # Batch norms get the statistics of faces as training will feed them (augmented):
        # clean faces' statistics knocked PublicTest from 67% to 64% in the first epoch.
        batches = make_dataset(train, cfg, training=True).take(4096 // cfg.batch_size + 1)
        faces = np.concatenate([images.numpy() for images, _ in batches])
        load_int8_weights(model, path, faces)
    else:
        model.set_weights(keras.models.load_model(path).get_weights())


def _distilled(cfg: TrainConfig, shape: ModelShape, train: Split) -> np.ndarray:
    from trainer.distill import load_teacher, soft_targets

    assert cfg.distill_from is not None
    pick = np.random.default_rng(cfg.seed).choice(len(train), min(4096, len(train)), False)
    teacher = load_teacher(Path(cfg.distill_from), shape, train.images[pick])
    targets = soft_targets(teacher, train, cfg.distill_weight)
    # the blend's argmax is always the label; the teacher's own scores say what it adds
    own = targets - (1 - cfg.distill_weight) * np.eye(len(LABELS))[train.labels]
    agree = float((own.argmax(1) == train.labels).mean())
    log.info("distilling %s (weight %.2f): the teacher agrees with %.1f%% of Training labels",
             cfg.distill_from, cfg.distill_weight, 100 * agree)
    return targets


class _Throughput(keras.callbacks.Callback):
    def __init__(self, n_images: int) -> None:
        super().__init__()
        self.n_images, self.epoch_s = n_images, []
        self._t0: float | None = None

    def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
        self._t0 = time.perf_counter()

    def on_test_begin(self, logs: object = None) -> None:
        # fit() validates inside the epoch; stop the clock so only training faces count
        if self._t0 is not None:
            self.epoch_s.append(time.perf_counter() - self._t0)
            self._t0 = None

    def on_epoch_end(self, epoch: int, logs: object = None) -> None:
        self.on_test_begin()


def _schedule(cfg: TrainConfig, steps_per_epoch: int) -> keras.optimizers.schedules.CosineDecay:
    total = max(1, cfg.epochs * steps_per_epoch)
    warmup = min(total - 1, cfg.warmup_epochs * steps_per_epoch)
    return keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate / 10, decay_steps=total - warmup, alpha=0.01,
        warmup_target=cfg.learning_rate, warmup_steps=warmup)


def train(data: FerData, cfg: TrainConfig, run_dir: Path) -> keras.Model:
    """Fit, keep the best PublicTest checkpoint in run_dir/model.keras, return it loaded."""
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(cfg.seed)
    precision = resolve_precision(cfg.precision)
    keras.mixed_precision.set_global_policy(precision)
    log.info("precision: %s (asked: %s)", precision, cfg.precision)
    train_split, notes = prepare_training(data, cfg)
    shape = ModelShape(blocks=cfg.blocks, dropout=cfg.dropout)
    model = build_model(shape=shape)
    if cfg.init_from:
        _continue_from(model, Path(cfg.init_from), train_split, cfg)
    targets = _distilled(cfg, shape, train_split) if cfg.distill_from else None
    steps = int(np.ceil(len(train_split) / cfg.batch_size))
    model.compile(
        optimizer=keras.optimizers.AdamW(_schedule(cfg, steps), weight_decay=cfg.weight_decay,
                                         use_ema=cfg.ema > 0, ema_momentum=cfg.ema or 0.99),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"])
    throughput = _Throughput(len(train_split))
    # With EMA on, validation and the checkpoint see the averaged weights (swapped in at
    # each epoch end); the live weights keep training.
    swap = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if cfg.ema > 0 else []
    callbacks = [
        *swap,
        keras.callbacks.ModelCheckpoint(run_dir / "model.keras", monitor="val_accuracy",
                                        save_best_only=True, mode="max"),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv")),
        keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                      patience=cfg.patience),
        throughput,
    ]
    model.fit(make_dataset(train_split, cfg, training=True, targets=targets), epochs=cfg.epochs,
              validation_data=make_dataset(data.public, cfg, training=False),
              callbacks=callbacks, verbose=1 if sys.stdout.isatty() else 2)
    rates = [len(train_split) / s for s in throughput.epoch_s]
    keras.mixed_precision.set_global_policy("float32")  # leave no global state behind
    summary = {"config": asdict(cfg), "precision": precision,
               "data": {"source": data.source, **notes, "train_images": len(train_split)},
               "macs": count_macs(model), "params": int(model.count_params()),
               "epochs_run": len(rates), "train_seconds": round(sum(throughput.epoch_s), 1),
               "images_per_second": round(float(np.median(rates)), 1) if rates else None}
    (run_dir / "train.json").write_text(json.dumps(summary, indent=2))
    log.info("training throughput: %s images/s (median over %d epochs)",
             summary["images_per_second"], len(rates))
    return keras.models.load_model(run_dir / "model.keras")

