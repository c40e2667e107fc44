"""The converter: load a Keras model, convert it, verify it against Keras, gate, write.

    emotion-train convert --model runs/<name>/model.keras --out models/<name>

`run` checks the converted model against Keras on PublicTest and PrivateTest, rejects it
when it falls more than `max_drop` points below, then writes the model and its sidecar
(`trainer.sidecar`) and records the golden vectors the edge runs at start
(`trainer.golden`). A model trained under any dtype policy is converted, and checked, as
its float32 network with the same weights.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import EdgeError
from trainer.crowd import crowd_of
from trainer.data import Split, limit_split, load_dataset
from trainer.errors import ExportError
from trainer.golden import write_golden
from trainer.metrics import compare
from trainer.scoring import TfliteModel
from trainer.sidecar import ModelInfo, dataset_info, export, quantization_of
from trainer.to_tflite import (
    MODES,
    convert,
    float32_model,
    load_keras_model,
    median_latency_ms,
    op_names,
)


@dataclass(frozen=True)
class ConvertRequest:
    """One converter run, as `scripts/convert_tflite.py` parses it; `out` is the file stem."""

    model: Path
    data: Path
    out: Path
    mode: str = "int8"
    max_drop: float = 1.0
    rep_samples: int = 300
    limit_eval: int | None = None
    name: str = "emotion-edge-cnn"
    version: str | None = None
    seed: int = 1234
    averaging: str = "flip"
    continuous_averaging: str = "flip"
    ferplus: Path | None = None  # FER+ votes; default: ferplus.npz beside `data`, if there


def _check_request(req: ConvertRequest) -> None:
    if req.mode not in MODES:
        raise ExportError(f"unknown mode {req.mode!r} (choose one of {', '.join(MODES)})")
    if req.mode == "int8" and req.rep_samples < 1:
        raise ExportError("--rep-samples must be at least 1 for int8 (a few hundred is right)")
    if req.limit_eval is not None and req.limit_eval < 1:
        raise ExportError("--limit-eval must be at least 1 (leave it out to score whole splits)")
    if not req.model.is_file():
        raise ExportError(f"model not found: {req.model} (pass --model runs/<name>/model.keras)")
    if not req.data.exists():
        raise ExportError(f"dataset not found: {req.data} (pass --data with the FER2013 .npz)")


def representative_faces(train: Split, n: int, seed: int) -> np.ndarray:
    """n random Training faces, raw uint8 like the training input."""
    return limit_split(train, n, seed).images


def _split_line(name: str, row: dict[str, Any]) -> str:
    c, f, m = row["clean"], row["flip_averaged"], row["averaged"]["crops"]
    return (f"{name:<11} n={row['n']:<5} keras {row['keras']:.2%}  tflite {row['tflite']:.2%}  "
            f"agreement {row['agreement']:.2%} | clean n={c['n']}: {c['keras']:.2%} / "
            f"{c['tflite']:.2%} | flip-averaged {f['keras']:.2%} / {f['tflite']:.2%}"
            f" | crops {m['keras']:.2%} / {m['tflite']:.2%}")




def summary_lines(content: bytes, ops: list[str], accuracy: dict[str, Any],
                  latency_ms: float) -> list[str]:
    """The human-readable verification report the converter prints."""
    io = quantization_of(TfliteModel(content))
    i, o = io["input"], io["output"]
    return [f"size {len(content):,} bytes; ops: {' '.join(ops)}",
            f"input {i['dtype']} {i['shape']} scale {i['scale']:g} zero point {i['zero_point']}"
            f"; output {o['dtype']} scale {o['scale']:g} zero point {o['zero_point']}",
            *(_split_line(s, accuracy[s]) for s in ("PublicTest", "PrivateTest")),
            f"median single-face latency {latency_ms:.3f} ms (LiteRT, 1 thread)"]


def _float32_of(path: Path, echo: Callable[[str], None]) -> tuple[Any, str]:
    """The model to convert and to check Keras against: its float32 network, whatever policy
    it was trained under, which is returned too (for the sidecar)."""
    trained = load_keras_model(path)  # first: a bad file is refused before Keras loads
    from trainer.model import precision_of

    precision = precision_of(trained)
    echo(f"trained under {precision}" + ("" if precision == "float32" else
         "; converted and compared with Keras in float32 (the same weights)"))
    return float32_model(trained), precision


def _crowd(req: ConvertRequest, data: Any, tflite: TfliteModel, accuracy: dict[str, Any],
           echo: Callable[[str], None]) -> dict[str, Any] | None:
    return crowd_of(tflite, data, req.data, req.ferplus, accuracy, echo,
                    limit_eval=req.limit_eval, seed=req.seed)


def _labels_source(model: Path) -> str | None:
    """`fer2013` or `ferplus`, from the run's train.json beside the .keras, if it is there."""
    try:
        return str(json.loads((model.parent / "train.json").read_text())["config"]["labels"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _golden_line(tflite_path: Path) -> str:
    """Record the golden vectors the edge runs at start (edge/classify/golden.py checks)."""
    try:
        block = write_golden(tflite_path)
    except EdgeError as e:
        raise ExportError(f"wrote {tflite_path}, but could not record its golden vectors: "
                          f"{e}; fix that, then: python scripts/golden_vectors.py "
                          f"{tflite_path}") from e
    return (f"recorded {len(block['vectors'])} golden vectors with {block['runtime']} on "
            f"{block['cpu']}")


def run(req: ConvertRequest, echo: Callable[[str], None] = print) -> int:
    """Convert, verify against Keras, gate on --max-drop, write. 0 written, 1 rejected."""
    _check_request(req)
    data = load_dataset(req.data)
    model, precision = _float32_of(req.model, echo)
    content = convert(model, req.mode, representative_faces(data.train, req.rep_samples,
                                                            req.seed))
    ops = op_names(content, req.mode)
    accuracy = compare(model, TfliteModel(content), data, req.limit_eval, req.seed)
    latency = median_latency_ms(content, data.public.images[0])
    for line in summary_lines(content, ops, accuracy, latency):
        echo(line)
    drops = {s: round((accuracy[s]["keras"] - accuracy[s]["tflite"]) * 100, 2)
             for s in ("PublicTest", "PrivateTest")}
    accuracy.update(metric="top-1 fraction", max_drop_points=req.max_drop)
    crowd = _crowd(req, data, TfliteModel(content), accuracy, echo)
    if max(drops.values()) > req.max_drop:
        echo(f"REJECTED: {req.mode} accuracy is {drops} points below Keras, more than "
             f"--max-drop {req.max_drop}; nothing written to {req.out}")
        return 1
    from trainer.model import count_macs  # Keras is loaded by now

    info = ModelInfo(name=req.name, version=req.version, mode=req.mode,
                     macs=count_macs(model), params=int(model.count_params()),
                     accuracy=accuracy, dataset=dataset_info(req.data, req.limit_eval),
                     averaging=req.averaging, trained_precision=precision,
                     continuous_averaging=req.continuous_averaging, crowd=crowd,
                     labels_source=_labels_source(req.model))
    tflite_path, json_path = export(content, info, req.out)
    echo(_golden_line(tflite_path))
    echo(f"drop vs Keras {drops} points (limit {req.max_drop}); wrote {tflite_path} "
         f"and {json_path}")
    return 0
