"""Training throughput per precision: the real trainer, float32 against bf16, in turns.

Each round runs `python -m trainer` on a random subset of Training (`--limit`) for a few
epochs at each precision and reads the faces/s it records (train.json: the median over its
epochs, validation excluded). The trainer runs in a child process with the machine's
threads, not the benchmark's one. bf16 pays only where the CPU has AMX or AVX-512 BF16;
elsewhere TensorFlow emulates it, which this section shows rather than assumes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

PRECISIONS = ("float32", "mixed_bfloat16")


def _cpu_summary() -> str:
    from .machine import cpu_units

    return f"{os.cpu_count()} cores; {', '.join(cpu_units()) or 'none of AVX2/AVX-512/AMX'}"


def _rate(faces_per_second: float) -> str:
    """Three significant figures, so a ratio read back from the table keeps its value."""
    return f"{faces_per_second:.0f}" if faces_per_second >= 100 else f"{faces_per_second:.3g}"


def _faces_per_second(args: argparse.Namespace, precision: str, out: Path,
                      env: dict[str, str]) -> float:
    cmd = [sys.executable, "-m", "trainer", "--data", str(args.data), "--out", str(out),
           "--limit", str(args.train_faces), "--epochs", str(args.train_epochs),
           "--precision", precision]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return float(json.loads((out / "train.json").read_text())["images_per_second"])


def _parts(args: argparse.Namespace, precision: str, env: dict[str, str]) -> dict[str, float]:
    cmd = [sys.executable, "-m", "benchmarks.train_step", "--data", str(args.data),
           "--faces", str(args.train_faces), "--precision", precision]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    parts: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return parts


def lines(args: argparse.Namespace, thread_env: dict[str, str]) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if k not in thread_env}
    rates: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    parts: dict[str, list[dict[str, float]]] = {p: [] for p in PRECISIONS}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.train_runs):
            for precision in PRECISIONS:  # in turns, so machine load hits both alike
                out = Path(tmp) / f"{precision}-{r}"
                rates[precision].append(_faces_per_second(args, precision, out, env))
                parts[precision].append(_parts(args, precision, env))
    base = statistics.median(rates["float32"])
    yield (f"Trainer throughput: {args.train_faces} Training faces, {args.train_epochs} "
           f"epochs per run, {args.train_runs} run(s) per precision in turns; {_cpu_summary()}")
    yield ""
    yield "| precision | faces/s, median of runs | runs | vs float32 |"
    yield "|---|---|---|---|"
    for precision, values in rates.items():
        median = statistics.median(values)
        yield (f"| {precision} | {_rate(median)} | {', '.join(_rate(v) for v in values)} | "
               f"{median / base:.2f}x |")
    yield ""
    yield ("Where the time goes: the whole trainer against its step alone (`fit` on one "
           "cached batch) and its input pipeline alone (`python -m benchmarks.train_step`), "
           "faces/s, medians:")
    yield ""
    yield "| precision | whole trainer | step alone | input pipeline alone | trainer / step |"
    yield "|---|---|---|---|---|"
    for precision, values in rates.items():
        whole = statistics.median(values)
        step = statistics.median(p["step"] for p in parts[precision])
        pipe = statistics.median(p["pipeline"] for p in parts[precision])
        yield (f"| {precision} | {_rate(whole)} | {_rate(step)} | {_rate(pipe)} | "
               f"{whole / step:.2f} |")
