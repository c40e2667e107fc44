"""Power-cut harness: simulated power cuts at random moments of recorded spool runs.

    nice -n 10 .venv/bin/python -m benchmarks.powercut [--cuts 1000] [--runs 6] [--seed 1]

Each run publishes results through the daemon's spool and publisher to a real mosquitto
that is up, then away, then hung, then up again (record.py, workload.py); then `--cuts` cut points,
spread over the runs and split between the "drop" and "torn" models (replay.py), are each
judged on what the daemon would find at the next boot; every 20th boots the daemon's MQTT
side on it and checks what a real broker receives (boot.py). The runs take turns between the
default `mqtt.spool.write_after_s` (2 s) and 0 (every result on the card before it is
sent); `--baseline` adds runs of the spool as it was before issue 33 (every result written
at once, `synchronous=NORMAL`), whose cuts are reported but not held to the promise.
Prints one Markdown table; exits 1 when a cut of the current spool broke the promise (a
corrupt spool, a reorder, or a loss a completed write should have prevented).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from random import Random

from .boot import Booter
from .replay import SLACK_S, Cut, judge
from .workload import Plan, record, temporary_workdir

MODES = ("drop", "torn")
SETTINGS = ((2.0, None), (0.0, None))  # (write_after_s, synchronous): default, no-loss
BASELINE = (0.0, "NORMAL")  # the spool before issue 33


def run_cuts(cuts: int, runs: int, seed: int, workdir: Path,
             settings: Sequence[tuple[float, str | None]] = SETTINGS,
             ) -> dict[tuple[float, str | None], list[Cut]]:
    """Cut verdicts per setting; `cuts` spread evenly over `runs` recorded runs."""
    out: dict[tuple[float, str | None], list[Cut]] = {s: [] for s in settings}
    per_run = max(1, cuts // (runs * len(MODES)))
    with Booter(workdir / "boot-broker") as booter:
        for n in range(runs):
            wait_s, synchronous = settings[n % len(settings)]
            plan = Plan(seed=seed + n, write_after_s=wait_s, synchronous=synchronous)
            run = record(plan, workdir / f"run-{n}")
            events = len(run.recorder.events)
            points = Random(plan.seed).sample(range(events + 1), min(per_run, events + 1))
            out[wait_s, synchronous] += judge(run, [(p, m) for p in points for m in MODES],
                                              workdir / f"cuts-{n}", plan.seed, booter.boot)
    return out


def _p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def table(verdicts: dict[tuple[float, str | None], list[Cut]]) -> str:
    lines = ["| spool | cuts (drop + torn) | corrupt spools | reorders | late losses "
             "| lost per cut: median / p99 / max | oldest lost result, s (bound) "
             "| cuts with duplicates (max per cut) | booted: sent as spooled |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (wait_s, synchronous), cuts in verdicts.items():
        if not cuts:
            continue
        name = (f"before: each result at once, synchronous={synchronous}" if synchronous
                else f"write_after_s = {wait_s:g}, synchronous=FULL")
        lost = [c.lost for c in cuts]
        ages = [a for c in cuts for a in c.ages_s]
        dups = [c.duplicates for c in cuts if c.duplicates]
        modes = " + ".join(str(sum(c.mode == m for c in cuts)) for m in MODES)
        lines.append(
            f"| {name} | {len(cuts)} ({modes}) | {sum(c.problem is not None for c in cuts)} "
            f"| {sum(not c.is_in_order for c in cuts)} | {sum(c.late for c in cuts)} "
            f"| {statistics.median(lost):g} / {_p99(lost):g} / {max(lost)} "
            f"| {max(ages, default=0.0):.2f} ({wait_s + SLACK_S:g}) "
            f"| {len(dups)} ({max(dups, default=0)}) "
            f"| {sum(c.is_booted and c.is_sent_as_spooled for c in cuts)} of "
            f"{sum(c.is_booted for c in cuts)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.powercut",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cuts", type=int, default=1000, help="cut points in all (1000)")
    parser.add_argument("--runs", type=int, default=6, help="recorded runs (6)")
    parser.add_argument("--seed", type=int, default=1, help="first run's seed (1)")
    parser.add_argument("--baseline", type=int, default=0, metavar="RUNS",
                        help="also this many runs of the spool before issue 33 (0)")
    args = parser.parse_args(argv)
    with temporary_workdir() as folder:
        verdicts = run_cuts(args.cuts, args.runs, args.seed, Path(folder))
        if args.baseline:
            per_run = max(1, args.cuts // args.runs)
            verdicts |= run_cuts(per_run * args.baseline, args.baseline, args.seed + args.runs,
                                 Path(folder) / "baseline", (BASELINE,))
    print(table(verdicts))
    broken = [c for (_, sync), cuts in verdicts.items() if sync is None for c in cuts
              if not c.is_within_promise]
    for cut in broken[:10]:
        print(f"broken: {cut}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
