"""`emotion-train`: FER2013 in, the model the Pi runs out, with its contract and its card.

    emotion-train [train] --out runs/mine          a run folder: model.keras and its report
    emotion-train convert --model runs/mine/model.keras --out models/mine
    emotion-train remeasure --model models/mine.tflite      refit a shipped model's sidecar
    emotion-train choose models/a.tflite models/b.tflite    the model to ship, by the rule
    emotion-train card --run runs/mine --model models/mine.tflite ...    models/README.md
    emotion-train teachers runs/a/model.keras runs/b/model.keras   each, and their ensemble
    emotion-train carry save /work/runs/mine       a long run, committed to the next window

`train` is the default command: `emotion-train --resume RUN` and every command line written
before the subcommands work as they did. Exit status, as `emotion-edge`'s: 0 done; 1 a user
error (one line on stderr, `emotion-train: error: ...`; `--debug` shows the traceback) or a
conversion rejected by --max-drop; 2 a command line that cannot be parsed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple, NoReturn

from trainer import card, carry, choose, convert_cli, teachers, train_cli
from trainer.errors import TrainerError

PROG = "emotion-train"


class _Command(NamedTuple):
    help: str
    description: str | None  # the module's docstring
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS = {
    "train": _Command("train a model (the default command)", train_cli.__doc__,
                      train_cli.add_arguments, train_cli.run),
    "convert": _Command("Keras model -> int8 TFLite + its sidecar, verified",
                        convert_cli.__doc__, convert_cli.add_convert_arguments,
                        convert_cli.convert),
    "remeasure": _Command("re-score a converted model, refit its sidecar", convert_cli.__doc__,
                          convert_cli.add_remeasure_arguments, convert_cli.remeasure),
    "choose": _Command("the model to ship, by the rule, from converted models",
                       choose.__doc__, choose.add_arguments, choose.run),
    "teachers": _Command("measure teachers and their ensemble, as a student learns them",
                         teachers.__doc__, teachers.add_arguments, teachers.run),
    "card": _Command("write models/README.md, the model card", card.__doc__,
                     card.add_arguments, card.run),
    "carry": _Command("carry a run folder to the next working window, and back",
                      carry.__doc__, carry.add_arguments, carry.run),
}


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, with where to look (subcommands inherit the class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks for user errors")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, parents=[common], help=command.help,
                                  description=command.description,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_arguments(sub)
        sub.set_defaults(func=command.run)  # not `run`: card has a --run option
    return p


def _with_command(argv: list[str]) -> list[str]:
    """The arguments with their subcommand: `train` unless one is named; `convert
    --remeasure` (before `remeasure` was a command) becomes `remeasure`."""
    if not argv or argv[0] not in COMMANDS:
        return ["train", *argv]
    if argv[0] == "convert" and "--remeasure" in argv:
        print(f"{PROG}: `convert --remeasure` is deprecated; running `{PROG} remeasure`",
              file=sys.stderr)
        return ["remeasure", *(a for a in argv[1:] if a != "--remeasure")]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `emotion-train` console script; returns the exit status."""
    try:
        args = _parser().parse_args(_with_command(list(sys.argv[1:] if argv is None else argv)))
    except SystemExit as e:  # --help (0), or a usage error already printed in one line (2)
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    try:
        return int(args.func(args))
    except (TrainerError, OSError) as e:
        if args.debug:
            raise
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
