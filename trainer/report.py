"""A run's report, in the order it is made: metrics, crowd figures, pictures, report.md.

`write_report` is the whole chain; each step is one module's job: the test-split figures
(`trainer.metrics`), the FER+ figures when the votes are attached (`trainer.crowd`),
`metrics.json`, the PNGs (`trainer.plots`), then `report.md` (`trainer.markdown`), which
embeds the pictures that exist.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from trainer.crowd import crowd_figures
from trainer.data import FerData, Split
from trainer.markdown import write_markdown
from trainer.metrics import evaluate
from trainer.model import precision_of
from trainer.plots import write_plots

log = logging.getLogger(__name__)


def write_report(model: Any, data: FerData, train_split: Split, run_dir: Path) -> dict[str, Any]:
    """metrics.json, the pictures and report.md in run_dir; returns the metrics, with the
    dtype policy the Keras model was trained under (the figures are computed under it)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    report = {**evaluate(model, data), "trained_precision": precision_of(model)}
    if data.public.votes is not None:
        report["ferplus"] = crowd_figures(model, data)
    (run_dir / "metrics.json").write_text(json.dumps(report, indent=2))
    write_plots(report, train_split, run_dir)
    try:
        write_markdown(report, train_split, run_dir)
    except Exception as e:  # metrics.json and model.keras of a long run already exist
        log.warning("report.md not written: %s: %s", type(e).__name__, e)
    return report
