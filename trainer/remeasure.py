"""Re-measure a shipped `.tflite` whose Keras original may be gone: `emotion-train remeasure`.

Re-scores it on both test splits with every averaging, refits its calibration by the rule
where the FER+ votes are there, and rewrites its sidecar's figures, calibration and default
averaging; the model file is not touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from trainer.crowd import crowd_of
from trainer.data import load_dataset
from trainer.errors import ExportError
from trainer.metrics import measure_tflite
from trainer.scoring import TfliteModel
from trainer.sidecar import averaging_block, crowd_blocks, sha256_of


def remeasure(model: Path, data_path: Path, averaging: str | None = None,
              echo: Callable[[str], None] = print, ferplus: Path | None = None) -> int:
    """Re-score a shipped .tflite (its Keras original may be gone) with every averaging,
    refit its calibration by the rule where the FER+ votes are there, and rewrite its
    sidecar's figures, calibration and default averaging (None keeps the sidecar's); the
    model file is not touched."""
    side_path = model.with_suffix(".json")
    if model.suffix != ".tflite" or not model.is_file() or not side_path.is_file():
        raise ExportError(f"{model}: pass a converted .tflite with its .json sidecar beside it "
                          "(emotion-train convert writes both)")
    meta = json.loads(side_path.read_text())
    averaging = averaging or meta["averaging"]["default"]
    if sha256_of(model) != meta.get("sha256"):
        raise ExportError(f"{model}: sha256 does not match {side_path}; re-export instead")
    data = load_dataset(data_path)
    tflite = TfliteModel(model)
    measured = measure_tflite(tflite, data)
    for split, row in measured.items():
        old = meta["accuracy"][split]
        if abs(old["tflite"] - row["tflite"]) > 1e-4:
            raise ExportError(f"{split}: one-pass accuracy {row['tflite']:.4f} differs from "
                              f"the sidecar's {old['tflite']:.4f}: not the same data or model")
        kept = old.get("averaged", {})
        old["averaged"] = {a: {**kept.get(a, {}), **v} for a, v in row["averaged"].items()}
        echo(f"{split}: " + ", ".join(f"{a} {v['tflite']:.2%}"
                                      for a, v in row["averaged"].items()))
    crowd = crowd_of(tflite, data, data_path, ferplus, meta["accuracy"], echo)
    if crowd:
        meta.update(crowd_blocks(crowd))
    meta["averaging"] = averaging_block(averaging, meta.get("averaging", {}).get("continuous"))
    partial = side_path.with_name(side_path.name + ".partial")
    partial.write_text(json.dumps(meta, indent=2) + "\n")
    partial.replace(side_path)
    echo(f"wrote {side_path} (default averaging: {averaging})")
    return 0
