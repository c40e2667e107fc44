"""Choose the model to ship by the rule, from the sidecars the converter wrote.

    emotion-train choose models/candidates/a.tflite models/candidates/b.tflite

Each sidecar holds its model's PublicTest figures at the operating point the rule picked
for it (`emotion-train convert`, or `remeasure` for an older file). The same
rule then picks between the models: the highest FER+ majority accuracy among those whose
mean per-emotion recall reaches the target (trainer.calibrate.choose). PrivateTest is
printed beside, never used. Exit 0 with the winner's path on the last line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from trainer.calibrate import RECALL_TARGET, choose
from trainer.errors import TrainerError


def _point(model: Path, averaging: str | None) -> dict[str, Any]:
    side_path = model.with_suffix(".json")
    try:
        side = json.loads(side_path.read_text())
    except (OSError, ValueError) as e:
        raise TrainerError(f"{side_path}: cannot read the sidecar ({e})") from e
    chosen = averaging or side.get("averaging", {}).get("default", "crops")
    crowd = side.get("crowd", {}).get(chosen)
    if crowd is None:
        raise TrainerError(f"{side_path}: no FER+ figures for `{chosen}`; refit it with "
                           f"`emotion-train remeasure --model {model}`")
    tau = side["calibration"]["by_averaging"][chosen]["tau"]
    return {"model": model, "averaging": chosen, "tau": tau, **crowd["PublicTest"],
            "private": crowd["PrivateTest"]}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("models", type=Path, nargs="+", help=".tflite files with their sidecars")
    p.add_argument("--averaging", default=None,
                   help="compare at this averaging (default: each model's own default)")
    p.add_argument("--min-recall", type=float, default=RECALL_TARGET,
                   help="the recall target of the rule (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Print each model's point and, last, the path of the one the rule picks."""
    points = [_point(m, args.averaging) for m in args.models]
    for q in points:
        r = q["private"]
        strong = (f", strong expressions {q['strong']['accuracy']:.2%}"
                  if "strong" in q else "")
        print(f"{q['model']}: {q['averaging']}, tau {q['tau']:g}: PublicTest "
              f"{q['accuracy']:.2%} / mean recall {q['mean_recall']:.2%}{strong}  "
              f"(PrivateTest {r['accuracy']:.2%} / {r['mean_recall']:.2%}, not used)")
    print(choose(points, args.min_recall)["model"])
    return 0
