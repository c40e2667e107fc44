"""Fit the CNN on Training, pick the best epoch on PublicTest, leave a run folder behind.

The run folder holds everything the report and the converter need: `model.keras` (the
best PublicTest checkpoint), `history.csv`, `train.json` (config, data notes, throughput),
and while the run lasts the checkpoint `--resume` continues from (trainer.checkpoint). The
batches and their augmentation are trainer.batches'; the settings, trainer.config's.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import keras
import numpy as np

from trainer.batches import make_dataset, prepare_training
from trainer.checkpoint import (
    CHECKPOINT,
    RunState,
    begin_run,
    end_epoch,
    fresh_state,
    read_state,
)
from trainer.config import TrainConfig, resolve_precision
from trainer.data import LABELS, FerData, Split
from trainer.model import ModelShape, build_model, count_macs, precision_of

log = logging.getLogger(__name__)


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

        own = targets(train, cfg.label_mix, cfg.is_single_vote_dropped)
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
    shape = ModelShape(blocks=cfg.blocks, dropout=cfg.dropout, is_separable=cfg.is_separable)
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


def _seed_dropout(model: keras.Model, seed: int) -> None:
    """Dropout's random state follows from (seed, epoch), not from how many steps ran in
    this process, so that a resumed epoch drops the units an uninterrupted one would."""
    for layer in model.layers:
        for generator in getattr(layer, "_seed_generators", ()):
            generator.state.assign(np.array([seed, 0], dtype=generator.state.dtype))


def train(data: FerData, cfg: TrainConfig, run_dir: Path, resume: bool = False,
          stop_after: int | None = None) -> keras.Model:
    """Fit, keep the best PublicTest checkpoint in run_dir/model.keras, return it loaded.

    After every epoch run_dir/checkpoint/ holds the model with its optimizer (moments,
    step count, hence the schedule) and the epoch reached (trainer.checkpoint);
    `resume=True` continues from there and ends where an uninterrupted run would have.
    `stop_after` ends this call after that many epochs (a session's share of a long run)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(cfg.seed)
    precision = resolve_precision(cfg.precision)
    keras.mixed_precision.set_global_policy(precision)
    log.info("precision: %s (asked: %s)", precision, cfg.precision)
    train_split, notes = prepare_training(data, cfg)
    targets = _targets(cfg, train_split, run_dir)
    if resume:
        state = read_state(run_dir)
        model = _resumed_model(run_dir / CHECKPOINT / "last.keras", precision, cfg, train_split)
        log.info("resuming after epoch %d of %d", state["epoch"] + 1, cfg.epochs)
    else:
        state = fresh_state()
        model = _fresh_model(cfg, train_split)
        begin_run(run_dir, cfg, data.source)
    _fit(model, data.public, _Epochs(train_split, targets, cfg, run_dir, stop_after), state)
    rates = [len(train_split) / s for s in state["epoch_seconds"] if s]
    keras.mixed_precision.set_global_policy("float32")  # leave no global state behind
    summary = {"config": asdict(cfg), "precision": precision,
               "data": {"source": data.source, **notes, "train_images": len(train_split)},
               "macs": count_macs(model), "params": int(model.count_params()),
               "epochs_run": len(rates), "best_epoch": state["best_epoch"],
               "monitor": _monitor(cfg), "train_seconds": round(sum(state["epoch_seconds"]), 1),
               "images_per_second": round(float(np.median(rates)), 1) if rates else None}
    (run_dir / "train.json").write_text(json.dumps(summary, indent=2))
    log.info("training throughput: %s images/s (median over %d epochs)",
             summary["images_per_second"], len(rates))
    return keras.models.load_model(run_dir / "model.keras")


@dataclass(frozen=True)
class _Epochs:
    """What every epoch of one call fits on, and where it leaves its checkpoint."""

    train_split: Split
    targets: np.ndarray | None
    cfg: TrainConfig
    run_dir: Path
    stop_after: int | None


def _fit(model: keras.Model, public: Split, run: _Epochs, state: RunState) -> None:
    """The epochs after state["epoch"], each checkpointed as it ends, until the schedule,
    the patience or `stop_after` says stop."""
    cfg = run.cfg
    validation = make_dataset(public, cfg, training=False)
    throughput = _Throughput()
    # With EMA on, validation and the checkpoint see the averaged weights (swapped in at
    # each epoch end); the live weights keep training.
    swap = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if cfg.ema > 0 else []
    crowd = [_CrowdAgreement(public)] if cfg.labels == "ferplus" else []
    first = state["epoch"] + 1
    for epoch in range(first, cfg.epochs):
        if run.stop_after is not None and epoch - first >= run.stop_after:
            break
        if epoch - state["best_epoch"] > cfg.patience and state["best_epoch"] >= 0:
            break
        _seed_dropout(model, cfg.seed + 1000 * epoch)
        fitted = model.fit(
            make_dataset(run.train_split, cfg, training=True, targets=run.targets, epoch=epoch),
            initial_epoch=epoch, epochs=epoch + 1, validation_data=validation, shuffle=False,
            callbacks=[throughput, *swap, *crowd], verbose=1 if sys.stdout.isatty() else 2)
        state["epoch_seconds"].append(throughput.seconds)
        end_epoch(run.run_dir, model, state, epoch,
                  {k: v[-1] for k, v in fitted.history.items()}, _monitor(cfg))
