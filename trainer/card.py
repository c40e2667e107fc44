"""Write models/README.md (the model card) from a training run and its converted model.

    emotion-train card --run runs/ship --model models/emotion-edge.tflite \\
        --train-command "..." --convert-command "..."

Every figure comes from run/metrics.json, run/train.json and the model's sidecar JSON;
the run's plots are copied next to the card. A model whose run folder is gone (trained on
another machine) gets its card all the same: leave out --run, say how it was trained with
--trained, and the per-class figures are scored on the int8 model as the daemon runs it
(its default averaging, calibrated) with --data.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from trainer.data import Split, default_fer2013_path
from trainer.markdown import crowd_table, per_class_table, recall_table
from trainer.plots import (
    CLASS_DISTRIBUTION,
    CONFUSION_MATRIX,
    SAMPLE_FACES,
    TRAINING_CURVES,
    TRAINING_VIOLINS,
)

PLOTS = {TRAINING_CURVES: "Accuracy and loss per epoch (train vs PublicTest)",
         TRAINING_VIOLINS: "Per-epoch accuracy and loss",
         CONFUSION_MATRIX: "Normalised confusion matrix, PrivateTest",
         CLASS_DISTRIBUTION: "Training-set class distribution",
         SAMPLE_FACES: "Sample Training faces per class"}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _accuracy_table(acc: dict[str, Any], default: str) -> list[str]:
    averagings = [a for a in ("flip", "crops") if a in acc["PrivateTest"].get("averaged", {})]
    heads = [f"int8, {a}{' (daemon default)' if a == default else ''}" for a in averagings]
    rows = ["| split | n | Keras float | **LiteRT int8** | " + " | ".join(heads) +
            " | clean part (no copy in Training), int8 | Keras/int8 top-1 agreement |",
            "|---" * (6 + len(averagings)) + "|"]
    for name in ("PublicTest", "PrivateTest"):
        a = acc[name]
        cells = [_pct(a["averaged"][v]["tflite"]) for v in averagings]
        rows.append(f"| {name} | {a['n']} | {_pct(a['keras'])} | **{_pct(a['tflite'])}** | "
                    + " | ".join(cells) + f" | {_pct(a['clean']['tflite'])} "
                    f"(n={a['clean']['n']}) | {_pct(a['agreement'])} |")
    return rows


def _crowd_rows(side: dict[str, Any]) -> dict[str, Any]:
    """The sidecar's crowd figures and calibration, shaped as the run report's tables read."""
    calibration = side["calibration"]["by_averaging"]
    return {a: {**row, "calibration": calibration[a]} for a, row in side["crowd"].items()}


def _crowd_glance(side: dict[str, Any]) -> list[str]:
    if "crowd" not in side:
        return []
    default = side["averaging"]["default"]
    p = side["crowd"][default]["PrivateTest"]
    return [f"| **FER+ majority accuracy, PrivateTest, int8, `{default}` (triggered captures' "
            f"default)** | **{_pct(p['accuracy'])}** (n={p['n']}) |",
            *([f"| same on Barsoum et al.'s 7-class majority (what papers report) | "
               f"{_pct(p['barsoum']['accuracy'])} (n={p['barsoum']['n']}) |"]
              if "barsoum" in p else []),
            f"| **mean per-emotion recall against it** | **{_pct(p['mean_recall'])}** "
            f"(lowest: {min(p['recall'].values()):.2f}) |",
            *([f"| strong expressions (7 of 10 annotators name one non-neutral emotion) | "
               f"{_pct(p['strong']['accuracy'])} (n={p['strong']['n']}), mean recall "
               f"{_pct(p['strong']['mean_recall'])} |"] if "strong" in p else []),
            f"| calibration error (ECE, 15 bins) / cross-entropy vs the votes | "
            f"{p['ece']:.3f} / {p['cross_entropy']:.3f} |",
            f"| FER2013 single-label accuracy of the same answers | "
            f"{_pct(p['fer2013_accuracy'])} |"]


def _crowd_section(side: dict[str, Any]) -> list[str]:
    if "crowd" not in side:
        return []
    rows = _crowd_rows(side)
    out = ["## Agreement with the FER+ annotators", "",
           "Scored as the daemon publishes: int8 on LiteRT, each averaging with its own "
           "calibration (a per-emotion log-score bias -tau x log(prior), then a temperature), "
           "both fitted on PublicTest, tau by the rule: the most accurate among the taus "
           "whose mean recall reaches 78%. Our majority: the emotion with strictly more votes "
           "than every other FER+ column (contempt, unknown and not-a-face included). "
           "Barsoum's: single votes zeroed, more than half of the rest, contempt, unknown and "
           "not-a-face dropped.", ""]
    for split in ("PrivateTest", "PublicTest"):
        out += [f"### {split}", "", *crowd_table(rows, split), "",
                "Recall per emotion against the majority:", "", *recall_table(rows, split), ""]
    return out


def _glance(acc: dict[str, Any], averaging: dict[str, Any]) -> str:
    private = acc["PrivateTest"]
    default = averaging["default"]
    views = ", ".join(
        f"{_pct(r['tflite'])} with `{name}` ({averaging['invokes'][name]} invokes"
        f"{', the daemon default' if name == default else ''})"
        for name, r in private.get("averaged", {}).items() if name != "none")
    return (f"| **FER2013 PrivateTest accuracy, LiteRT int8** | **{_pct(private['tflite'])}** "
            "one pass; "
            f"{views} |")


def _confusion_table(split: dict[str, Any], labels: list[str]) -> list[str]:
    rows = ["| true \\ predicted | " + " | ".join(labels) + " |",
            "|---" * (len(labels) + 1) + "|"]
    for name, row in zip(labels, split["confusion_matrix"], strict=True):
        rows.append(f"| **{name}** | " + " | ".join(str(v) for v in row) + " |")
    return rows


def _deployed_metrics(model: Path, side: dict[str, Any], private: Split) -> dict[str, Any]:
    """PrivateTest per class as the daemon answers: int8, default averaging, calibrated."""
    from edge.calibration import calibration_of
    from trainer.data import LABELS
    from trainer.metrics import classification_metrics
    from trainer.scoring import TfliteModel, averaged_scores

    default = side["averaging"]["default"]
    block = side.get("calibration", {}).get("by_averaging", {}).get(default)
    scores = calibration_of(block, LABELS).apply(
        averaged_scores(TfliteModel(model), private.images, default))
    return {"labels": list(LABELS), "source": f"LiteRT int8, `{default}`, calibrated",
            "PrivateTest": classification_metrics(private.labels, scores.argmax(1))}


def _run_files(run: Path | None, model: Path, side: dict[str, Any],
               args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """metrics.json and train.json of the run, or their stand-ins when the run is gone:
    the data cleaning counted as training counts it, the per-class figures of the int8 model."""
    if run is not None:
        metrics = json.loads((run / "metrics.json").read_text())
        return {**metrics, "source": "Keras float model"}, json.loads(
            (run / "train.json").read_text())
    from trainer.data import clean_training, load_dataset
    from trainer.ferplus import attach_votes, default_ferplus_path, emotion_faces

    data = attach_votes(load_dataset(args.data), default_ferplus_path(args.data), args.data)
    kept, notes = clean_training(data.train)
    _, dropped = emotion_faces(kept)  # as prepare_training counts, without its TensorFlow
    counts = {**notes, "dropped_mostly_not_emotion": dropped["dropped_mostly_not_emotion"],
              "train_images": dropped["kept"]}
    return (_deployed_metrics(model, side, data.private),
            {"data": counts, "trained": args.trained})


def _training_row(train: dict[str, Any], side: dict[str, Any]) -> str:
    if "trained" in train:
        return f"| training | {train['trained']}; labels: {side.get('labels_source')} |"
    return (f"| training | {train['epochs_run']} epochs in {train['train_seconds'] / 60:.0f} "
            f"min on a 2-core CPU, no GPU, {train['images_per_second']} images/s, "
            f"{side.get('trained_precision') or train.get('precision', 'float32')}; labels: "
            f"{side.get('labels_source') or 'fer2013'} |")


def render(run: Path | None, model: Path, args: argparse.Namespace) -> str:
    side = json.loads(model.with_suffix(".json").read_text())
    metrics, train = _run_files(run, model, side, args)
    if run is None:  # the run's confusion plot is gone: draw the int8 model's
        from trainer.plots import confusion_matrix, save

        save(confusion_matrix(metrics["PrivateTest"], metrics["labels"]),
              model.parent / CONFUSION_MATRIX)
    acc, data = side["accuracy"], train["data"]
    lines = [
        f"# Model card: `{model.name}` ({side['name']} {side['version']})", "",
        "A 5-block CNN that reads a raw 48x48 grey face (uint8; scaling is inside the model) "
        "and returns scores for angry, disgust, fear, happy, sad, surprise, neutral. "
        "Full-integer int8 TFLite, run on the Pi by LiteRT. Its contract (labels, input, "
        "quantization, preprocessing, sha256) is the sidecar "
        f"[`{model.with_suffix('.json').name}`]({model.with_suffix('.json').name}).", "",
        "## At a glance", "",
        "| | |", "|---|---|",
        *_crowd_glance(side),
        _glance(acc, side["averaging"]),
        f"| same, clean part of PrivateTest | {_pct(acc['PrivateTest']['clean']['tflite'])} "
        f"(n={acc['PrivateTest']['clean']['n']}) |",
        f"| macro-F1, PrivateTest ({metrics['source']}) | "
        f"{metrics['PrivateTest']['macro_f1']:.3f} |",
        f"| multiply-accumulates per invoke | {side['macs'] / 1e6:.1f} M |",
        f"| parameters | {side['params']:,} |",
        f"| size on disk | {model.stat().st_size:,} bytes |",
        f"| latency, one face, LiteRT 1 thread, this x86 machine | {args.latency} |",
        _training_row(train, side), "",
        "## Data and splits", "",
        f"FER2013 (`{side['dataset']['name']}`, sha256 `{side['dataset']['sha256'][:16]}…`), "
        "official splits: fit on Training, epoch chosen on PublicTest (best checkpoint), "
        "figures reported on PrivateTest. Training was cleaned first: "
        f"{data.get('dropped_duplicates', 0)} redundant exact copies, "
        f"{data.get('dropped_conflicting', 0)} faces in copy groups with conflicting labels"
        + (f" and {data['dropped_mostly_not_emotion']} faces most of whose FER+ votes are "
           "unknown, not-a-face or contempt" if "dropped_mostly_not_emotion" in data else "")
        + f" dropped, {data['train_images']:,} faces kept. The \"clean part\" of a test split is "
        "its faces with no exact copy in Training.", "",
        *_crowd_section(side),
        "## Accuracy against FER2013's single labels", "",
        *_accuracy_table(acc, side["averaging"]["default"]), "",
        f"## Per class, PrivateTest ({metrics['source']}; int8 agrees with Keras on "
        f"{_pct(acc['PrivateTest']['agreement'])} of faces in one pass)", "",
        *per_class_table(metrics["PrivateTest"]), "",
        f"## Confusion matrix, PrivateTest (counts, {metrics['source']})", "",
        *_confusion_table(metrics["PrivateTest"], metrics["labels"]), "",
        "## Reproduce", "", "```", *args.train_command, args.convert_command,
        f"emotion-train card {f'--run {run}' if run else '--trained ...'} --model {model}"
        + (f" --notes-file {args.notes_file}" if args.notes_file else ""),
        "```", "", _notes(args), "",
    ]
    shown = [n for n in PLOTS if (run / n).exists()] if run else [CONFUSION_MATRIX]
    lines += [f"### {PLOTS[name]}\n\n![{PLOTS[name]}]({name})\n" for name in shown]
    return "\n".join(lines)


def _notes(args: argparse.Namespace) -> str:
    return str(args.notes_file.read_text()) if args.notes_file else str(args.notes)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", type=Path, default=None,
                   help="the training run folder (metrics.json, train.json, plots); leave "
                        "out when it is gone and give --trained and --data")
    p.add_argument("--trained", default="n/a",
                   help="without --run: how the model was trained, one line for the card")
    p.add_argument("--data", type=Path, default=default_fer2013_path(),
                   help="without --run: FER2013 .npz with ferplus.npz beside it, to score "
                        "the int8 model per class (default: %(default)s)")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--train-command", action="append", required=True)
    p.add_argument("--convert-command", required=True)
    p.add_argument("--latency", default="see the benchmark")
    p.add_argument("--notes", default="")
    p.add_argument("--notes-file", type=Path, default=None,
                   help="Markdown appended after Reproduce (instead of --notes)")


def run(args: argparse.Namespace) -> int:
    """Copy the run's plots beside the model and write the card there."""
    for name in PLOTS:
        if args.run is not None and (args.run / name).exists():
            shutil.copy(args.run / name, args.model.parent / name)
    (args.model.parent / "README.md").write_text(render(args.run, args.model, args))
    return 0
