"""The model's contract: `<stem>.tflite` and its `<stem>.json` sidecar, written together.

The trainer writes the contract (`emotion-edge-model/1`, keys exactly as
`edge.model_contract` reads them) and `edge/` only reads and checks it. The quantization
in the sidecar is read back from the LiteRT interpreter, never assumed; a sidecar the edge
would not load is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import ModelError
from edge.model_contract import AVERAGINGS, FORMAT, contract_of
from trainer.data import LABELS
from trainer.errors import ExportError
from trainer.scoring import TfliteModel

PREPROCESS = {"grayscale": True, "face_margin": 0.0, "resize": "area", "pixel_range": [0, 255]}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def quantization_of(tfl: TfliteModel) -> dict[str, dict[str, Any]]:
    """Input and output dtype / scale / zero point, as the interpreter reports them."""
    def part(detail: dict[str, Any]) -> dict[str, Any]:
        scale, zero = detail["quantization"]
        return {"dtype": np.dtype(detail["dtype"]).name, "scale": float(scale),
                "zero_point": int(zero)}
    return {"input": {"shape": [int(n) for n in tfl.input["shape"]], **part(tfl.input)},
            "output": part(tfl.output)}


@dataclass(frozen=True)
class ModelInfo:
    """What the sidecar says about the model beyond its file: identity, cost, provenance."""

    name: str
    version: str | None
    mode: str
    macs: int
    params: int
    accuracy: dict[str, Any]
    dataset: dict[str, Any]
    averaging: str = "flip"
    trained_precision: str | None = None  # the Keras dtype policy of training; None: unknown
    continuous_averaging: str = "flip"
    crowd: dict[str, Any] | None = None  # trainer.crowd figures per averaging, when FER+ exists
    labels_source: str | None = None  # what the model learned: fer2013 or ferplus (train.json)


def sidecar(content: bytes, info: ModelInfo) -> dict[str, Any]:
    """The `emotion-edge-model/1` contract for a flatbuffer (keys exactly as the edge reads)."""
    sha = hashlib.sha256(content).hexdigest()
    now = datetime.now(UTC).replace(microsecond=0)
    io = quantization_of(TfliteModel(content))
    return {"format": FORMAT, "name": info.name,
            "version": info.version or f"{now:%Y.%m.%d}+{sha[:8]}",
            "labels": list(LABELS), "input": io["input"], "output": io["output"],
            "preprocess": dict(PREPROCESS),
            "averaging": averaging_block(info.averaging, info.continuous_averaging),
            "quantization": info.mode,
            "accuracy": info.accuracy, **crowd_blocks(info.crowd),
            "labels_source": info.labels_source, "macs": info.macs, "params": info.params,
            "dataset": info.dataset, "trained_precision": info.trained_precision,
            "sha256": sha, "created": now.isoformat()}


def crowd_blocks(crowd: dict[str, Any] | None) -> dict[str, Any]:
    """The edge's calibration per averaging, and the FER+ figures it gives (trainer.crowd)."""
    if not crowd:
        return {}
    return {"calibration": {"by_averaging": {a: row["calibration"] for a, row in crowd.items()},
                            "fitted_on": "PublicTest"},
            "crowd": {a: {"PublicTest": row["PublicTest"], "PrivateTest": row["PrivateTest"],
                          "metric": "FER+ majority (strictly ahead of all 10 columns), "
                                    "calibrated scores"}
                      for a, row in crowd.items()}}


def averaging_block(default: str, continuous: str | None = None) -> dict[str, Any]:
    """What the edge averages for triggered captures and in continuous mode, and what each
    choice costs; the accuracy block holds each one's figures (`accuracy.<split>.averaged`)."""
    from edge.classify.averaging import SHIFT_PX, invokes

    for chosen in (default, continuous or default):
        if chosen not in AVERAGINGS:
            raise ExportError(f"unknown averaging {chosen!r} (choose one of {AVERAGINGS})")
    return {"default": default, "continuous": continuous or default, "shift_px": SHIFT_PX,
            "invokes": {a: invokes(a) for a in AVERAGINGS}}


def export(content: bytes, info: ModelInfo, out: Path) -> tuple[Path, Path]:
    """Write `<out>.tflite` and `<out>.json` side by side; returns both paths."""
    out = out.with_suffix("") if out.suffix in (".tflite", ".json") else out
    out.parent.mkdir(parents=True, exist_ok=True)
    tflite_path, json_path = out.with_name(out.name + ".tflite"), out.with_name(out.name + ".json")
    meta = sidecar(content, info)
    try:
        contract_of(tflite_path, meta)  # what the edge will read, or fail before writing
    except ModelError as e:
        raise ExportError(f"the sidecar would not load on the edge: {e}") from e
    text = json.dumps(meta, indent=2) + "\n"
    for link, data in ((tflite_path, content), (json_path, text.encode())):
        path = link.resolve()  # models/ links into edge/assets: replace the file, keep the link
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)  # a reader never sees half a file; the sidecar lands last
    return tflite_path, json_path


def dataset_info(path: Path, limit_eval: int | None) -> dict[str, Any]:
    # the file name only: a full path would be the converting machine's
    return {"source": path.name, "name": path.stem, "sha256": sha256_of(path) if path.is_file()
            else None, "representative_split": "Training",
            "evaluated_splits": ["PublicTest", "PrivateTest"], "limit_eval": limit_eval}
