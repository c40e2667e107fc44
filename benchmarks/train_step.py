"""The trainer's parts alone, for `--only training`: what one step and the input pipeline
can do by themselves, to set against the whole trainer's faces/s.

    python -m benchmarks.train_step --data fer2013.npz --faces 4096 --precision float32

prints one JSON line: `step` (faces/s of `fit` on one cached, augmented batch repeated:
the model's forward and backward pass and the optimizer in fit's own compiled loop, no input
pipeline, no validation) and `pipeline` (faces/s
of the tf.data input alone: shuffle, augmentation, batching). Run in a child process, so
each precision gets a fresh TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def _rate(n_faces: int, seconds: float) -> float:
    return round(n_faces / seconds, 1)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--faces", type=int, default=4096)
    p.add_argument("--precision", default="float32")
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as the trainer's CLI sets it

    import keras
    import numpy as np

    from trainer.batches import make_dataset, prepare_training
    from trainer.config import TrainConfig
    from trainer.data import load_dataset
    from trainer.train import _fresh_model

    cfg = TrainConfig(limit=args.faces, precision=args.precision)
    keras.mixed_precision.set_global_policy(args.precision)
    data = load_dataset(args.data)
    train, _ = prepare_training(data, cfg)
    start = time.perf_counter()
    batches = list(make_dataset(train, cfg, training=True, epoch=1))
    pipeline = _rate(len(train), time.perf_counter() - start)
    import tensorflow as tf

    model = _fresh_model(cfg, train)
    x, y = batches[0]
    cached = tf.data.Dataset.from_tensors((x, y))
    model.fit(cached.repeat(3), verbose=0)  # trace and warm up
    start = time.perf_counter()
    model.fit(cached.repeat(args.steps), verbose=0)
    step = _rate(args.steps * len(x), time.perf_counter() - start)
    print(json.dumps({"step": step, "pipeline": pipeline, "batch": len(np.asarray(x))}))


if __name__ == "__main__":
    main()
