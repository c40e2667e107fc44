"""Write models/README.md (the model card) from a training run and its converted model.

    python scripts/model_card.py --run runs/ship --model models/emotion-edge.tflite

Reads run/metrics.json, run/train.json, run/history.csv and the model's sidecar JSON;
copies the run's plots next to the card. Every figure in the card comes from those files.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

PLOTS = ("class_distribution.png", "sample_faces.png", "curves.png", "violins.png",
         "confusion_matrix.png")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _per_class_table(split: dict[str, Any]) -> list[str]:
    rows = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, m in split["per_class"].items():
        rows.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} "
                    f"| {m['support']} |")
    return rows


def _confusion_table(split: dict[str, Any], labels: list[str]) -> list[str]:
    rows = ["| true \\ predicted | " + " | ".join(labels) + " |",
            "|---" * (len(labels) + 1) + "|"]
    for name, row in zip(labels, split["confusion_matrix"], strict=True):
        rows.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    return rows


def render(run: Path, model: Path, extra: dict[str, Any]) -> str:
    metrics = json.loads((run / "metrics.json").read_text())
    train = json.loads((run / "train.json").read_text())
    sidecar = json.loads(model.with_suffix(".json").read_text())
    lines = [f"# Model card: {sidecar['name']} {sidecar['version']}", ""]
    lines += [line for line in extra.get("summary", [])]
    lines += ["", "## Figures (FER2013)", "", json.dumps(sidecar["accuracy"], indent=1), ""]
    lines += ["## Per-class, PrivateTest (Keras float model)", ""]
    lines += _per_class_table(metrics["PrivateTest"])
    lines += ["", "## Confusion matrix, PrivateTest (counts)", ""]
    lines += _confusion_table(metrics["PrivateTest"], metrics["labels"])
    lines += ["", "## Training", "", "```", json.dumps(train, indent=1), "```", ""]
    lines += [f"![{p}]({p})" for p in PLOTS if (run / p).exists()]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--model", type=Path, required=True)
    args = p.parse_args()
    out = args.model.parent
    for plot in PLOTS:
        if (args.run / plot).exists():
            shutil.copy(args.run / plot, out / plot)
    (out / "README.md").write_text(render(args.run, args.model, {}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
