"""Fit the CNN on Training, pick the best epoch on PublicTest, leave a run folder behind.

The run folder holds everything the report and the converter need: `model.keras` (the
best PublicTest checkpoint), `history.csv`, `train.json` (config, data notes, throughput).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TypedDict

import keras
import numpy as np
import tensorflow as tf

from trainer.data import LABELS, FerData, Split, clean_training, limit_split
from trainer.model import DEFAULT_BLOCKS, ModelShape, build_model, count_macs, precision_of

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
    distill_from: tuple[str, ...] = ()  # teachers (.keras or .tflite) whose crops scores to learn
    distill_weight: float = 0.5  # share of the teacher's scores in each target
    labels: str = "fer2013"  # fer2013 (one label per face) | ferplus (the crowd's vote shares)
    label_mix: float = 0.0  # with ferplus: share of the FER2013 label blended into each target
    ferplus: str | None = None  # the FER+ votes file, aligned to the FER2013 .npz
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
    if cfg.labels == "ferplus":
        from trainer.ferplus import Votes

        if train.votes is None:
            raise ValueError("labels=ferplus needs the FER+ votes attached to the data")
        keep = Votes(train.votes).trainable()
        notes = {**notes, "dropped_mostly_not_emotion": int((~keep).sum()),
                 "kept": int(keep.sum())}
        train = train.take(keep)
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


class _Throughput(keras.callbacks.Callback):  # type: ignore[misc]  # keras has no types
    """Seconds spent on training batches in the epoch, validation left out."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self._t0: float | None = None

    def on_epoch_begin(self, epoch: int, logs: object = None) -> None:
        self._t0 = time.perf_counter()

    def on_test_begin(self, logs: object = None) -> None:
        # fit() validates inside the epoch; stop the clock so only training faces count
        if self._t0 is not None:
            self.seconds = time.perf_counter() - self._t0
            self._t0 = None

    def on_epoch_end(self, epoch: int, logs: object = None) -> None:
        self.on_test_begin()


def _schedule(cfg: TrainConfig, steps_per_epoch: int) -> keras.optimizers.schedules.CosineDecay:
    total = max(1, cfg.epochs * steps_per_epoch)
    warmup = min(total - 1, cfg.warmup_epochs * steps_per_epoch)
    return keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate / 10, decay_steps=total - warmup, alpha=0.01,
        warmup_target=cfg.learning_rate, warmup_steps=warmup)


def _targets(cfg: TrainConfig, train: Split, run_dir: Path) -> np.ndarray | None:
    """The vote shares (ferplus) or None for one-hot labels, with the teachers blended in."""
    own: np.ndarray | None = None
    if cfg.labels == "ferplus":
        from trainer.ferplus import targets

        own = targets(train, cfg.label_mix)
    if not cfg.distill_from:
        return own
    if own is None:
        own = np.eye(len(LABELS), dtype=np.float32)[train.labels]
    from trainer.distill import blend, teacher_scores

    teacher = teacher_scores(tuple(Path(p) for p in cfg.distill_from), train,
                             cache=run_dir / "teacher_scores.npz")
    log.info("distilling %d teacher(s) at weight %.2f: they agree with %.1f%% of Training "
             "labels", len(cfg.distill_from), cfg.distill_weight,
             100 * float((teacher.argmax(1) == train.labels).mean()))
    return blend(teacher, own, cfg.distill_weight)


def _fresh_model(cfg: TrainConfig, train_split: Split) -> keras.Model:
    shape = ModelShape(blocks=cfg.blocks, dropout=cfg.dropout)
    model = build_model(shape=shape)
    if cfg.init_from:
        _continue_from(model, Path(cfg.init_from), train_split, cfg)
    steps = int(np.ceil(len(train_split) / cfg.batch_size))
    # Vote shares are soft already; smoothing them again would only blur the crowd's answer
    smoothing = 0.0 if cfg.labels == "ferplus" else cfg.label_smoothing
    model.compile(
        optimizer=keras.optimizers.AdamW(_schedule(cfg, steps), weight_decay=cfg.weight_decay,
                                         use_ema=cfg.ema > 0, ema_momentum=cfg.ema or 0.99),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=smoothing),
        metrics=["accuracy"])
    return model


def _resumed_model(path: Path, precision: str, cfg: TrainConfig,
                   train_split: Split) -> keras.Model:
    """The checkpoint, computing in this CPU's precision. The CPU changes between working
    windows: a run begun in bf16 on an AMX machine would crawl on one without bf16 units
    (emulated, 0.06x), so the same weights and optimizer state move into a model built
    under the policy that `cfg.precision` resolves to here."""
    saved = keras.models.load_model(path)
    if precision_of(saved) == precision:
        return saved
    log.info("the checkpoint computed in %s; this CPU continues in %s (same weights and "
             "optimizer state)", precision_of(saved), precision)
    model = _fresh_model(replace(cfg, init_from=None), train_split)
    model.set_weights(saved.get_weights())
    model.optimizer.build(model.trainable_variables)
    for mine, theirs in zip(model.optimizer.variables, saved.optimizer.variables, strict=True):
        if tuple(mine.shape) != tuple(theirs.shape):
            raise ValueError(f"{path}: optimizer variable {theirs.path} has shape "
                             f"{tuple(theirs.shape)}, the rebuilt model {tuple(mine.shape)}")
        mine.assign(theirs)
    return model


class _CrowdAgreement(keras.callbacks.Callback):  # type: ignore[misc]  # keras has no types
    """Adds PublicTest's FER+ figures (flip-averaged, as the edge answers) to the epoch logs:
    the majority accuracy, the mean per-emotion recall and `val_ferplus_score`, their mean,
    which picks the checkpoint (accuracy alone rewards calling every face neutral)."""

    def __init__(self, public: Split) -> None:
        super().__init__()
        self.public = public

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        from trainer.ferplus import Votes, agreement_metrics
        from trainer.scoring import averaged_scores

        assert self.public.votes is not None and logs is not None
        scores = averaged_scores(self.model, self.public.images, "flip")
        m = agreement_metrics(scores, Votes(self.public.votes))
        logs["val_ferplus_accuracy"] = float(m["accuracy"])  # type: ignore[arg-type]
        logs["val_ferplus_mean_recall"] = float(m["mean_recall"])  # type: ignore[arg-type]
        logs["val_ferplus_score"] = (logs["val_ferplus_accuracy"]
                                     + logs["val_ferplus_mean_recall"]) / 2


def _monitor(cfg: TrainConfig) -> str:
    return "val_ferplus_score" if cfg.labels == "ferplus" else "val_accuracy"


def _save_atomically(model: keras.Model, path: Path) -> None:
    """A kill mid-save leaves the previous file whole (Keras writes in place)."""
    partial = path.with_name(path.stem + ".partial" + path.suffix)
    model.save(partial)
    partial.replace(path)


def _append_history(path: Path, epoch: int, logs: dict[str, float]) -> None:
    import csv

    row = {"epoch": epoch, **{k: round(float(v), 6) for k, v in sorted(logs.items())}}
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def _seed_dropout(model: keras.Model, seed: int) -> None:
    """Dropout's random state follows from (seed, epoch), not from how many steps ran in
    this process, so that a resumed epoch drops the units an uninterrupted one would."""
    for layer in model.layers:
        for generator in getattr(layer, "_seed_generators", ()):
            generator.state.assign(np.array([seed, 0], dtype=generator.state.dtype))


CHECKPOINT = "checkpoint"


class _RunState(TypedDict):
    """What checkpoint/state.json carries from one epoch to the next."""

    epoch: int  # the last epoch done, -1 before the first
    best: float  # the best monitored value so far
    best_epoch: int
    epoch_seconds: list[float]  # training time of each epoch, validation left out


def saved_run(run_dir: Path) -> tuple[TrainConfig, Path]:
    """The config and dataset path of a run that `train` checkpointed, to resume it."""
    saved = json.loads((run_dir / CHECKPOINT / "run.json").read_text())
    config = dict(saved["config"])
    config["blocks"] = tuple(tuple(b) for b in config["blocks"])
    teachers = config.get("distill_from")  # one path or null in runs begun before issue 30
    config["distill_from"] = ((teachers,) if isinstance(teachers, str)
                              else tuple(teachers or ()))
    return TrainConfig(**config), Path(saved["data"])


def train(data: FerData, cfg: TrainConfig, run_dir: Path, resume: bool = False,
          stop_after: int | None = None) -> keras.Model:
    """Fit, keep the best PublicTest checkpoint in run_dir/model.keras, return it loaded.

    After every epoch run_dir/checkpoint/ holds the model with its optimizer (moments,
    step count, hence the schedule) and the epoch reached; `resume=True` continues from
    there and ends where an uninterrupted run would have. `stop_after` ends this call
    after that many epochs (a session's share of a long run)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt = run_dir / CHECKPOINT
    ckpt.mkdir(exist_ok=True)
    keras.utils.set_random_seed(cfg.seed)
    precision = resolve_precision(cfg.precision)
    keras.mixed_precision.set_global_policy(precision)
    log.info("precision: %s (asked: %s)", precision, cfg.precision)
    train_split, notes = prepare_training(data, cfg)
    targets = _targets(cfg, train_split, run_dir)
    state: _RunState = {"epoch": -1, "best": -np.inf, "best_epoch": -1, "epoch_seconds": []}
    if resume:
        state = json.loads((ckpt / "state.json").read_text())
        model = _resumed_model(ckpt / "last.keras", precision, cfg, train_split)
        log.info("resuming after epoch %d of %d", state["epoch"] + 1, cfg.epochs)
    else:
        model = _fresh_model(cfg, train_split)
        (run_dir / "history.csv").unlink(missing_ok=True)
        (ckpt / "run.json").write_text(json.dumps({"config": asdict(cfg),
                                                   "data": data.source}, indent=2))
    monitor = _monitor(cfg)
    validation = make_dataset(data.public, cfg, training=False)
    throughput = _Throughput()
    # With EMA on, validation and the checkpoint see the averaged weights (swapped in at
    # each epoch end); the live weights keep training.
    swap = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if cfg.ema > 0 else []
    crowd = [_CrowdAgreement(data.public)] if cfg.labels == "ferplus" else []
    first = state["epoch"] + 1
    for epoch in range(first, cfg.epochs):
        if stop_after is not None and epoch - first >= stop_after:
            break
        if epoch - state["best_epoch"] > cfg.patience and state["best_epoch"] >= 0:
            break
        _seed_dropout(model, cfg.seed + 1000 * epoch)
        fitted = model.fit(
            make_dataset(train_split, cfg, training=True, targets=targets, epoch=epoch),
            initial_epoch=epoch, epochs=epoch + 1, validation_data=validation, shuffle=False,
            callbacks=[throughput, *swap, *crowd], verbose=1 if sys.stdout.isatty() else 2)
        logs = {k: v[-1] for k, v in fitted.history.items()}
        _append_history(run_dir / "history.csv", epoch, logs)
        state["epoch_seconds"].append(throughput.seconds)
        if logs[monitor] > state["best"]:
            state["best"], state["best_epoch"] = float(logs[monitor]), epoch
            _save_atomically(model, run_dir / "model.keras")
        state["epoch"] = epoch
        _save_atomically(model, ckpt / "last.keras")
        (ckpt / "state.json").write_text(json.dumps(state))
    rates = [len(train_split) / s for s in state["epoch_seconds"] if s]
    keras.mixed_precision.set_global_policy("float32")  # leave no global state behind
    summary = {"config": asdict(cfg), "precision": precision,
               "data": {"source": data.source, **notes, "train_images": len(train_split)},
               "macs": count_macs(model), "params": int(model.count_params()),
               "epochs_run": len(rates), "best_epoch": state["best_epoch"],
               "monitor": monitor, "train_seconds": round(sum(state["epoch_seconds"]), 1),
               "images_per_second": round(float(np.median(rates)), 1) if rates else None}
    (run_dir / "train.json").write_text(json.dumps(summary, indent=2))
    log.info("training throughput: %s images/s (median over %d epochs)",
             summary["images_per_second"], len(rates))
    return keras.models.load_model(run_dir / "model.keras")
