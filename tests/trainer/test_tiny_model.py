"""The committed tiny model (tests/data/tiny-model.*) is what `python -m tests.make_test_model`
makes today: the edge tests run it without TensorFlow, so it must not drift from the
trainer's contract unseen. On a failure here, run the script and commit both files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fixtures.models import COMMITTED_TINY_MODEL
from tests.make_test_model import main
from trainer.to_tflite import op_names

# Keys that differ between two runs (the stamp) or between CPUs: training and calibration run
# oneDNN float kernels that differ in the last bits from one x86-64 to the next (AVX2,
# AVX-512, AMX), so the weights, hence the file and its sha256, are this machine's.
STAMPS = ("created", "sha256")


def _tensors(model: Path) -> list[tuple[Any, ...]]:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model))
    return [(d["shape"].tolist(), d["dtype"].__name__, d["quantization"])
            for d in (*it.get_input_details(), *it.get_output_details())]


def test_the_script_makes_the_committed_model(tmp_path: Path) -> None:
    out = tmp_path / "tiny-model.tflite"
    assert main(["--out", str(out)]) == 0
    made, committed = (json.loads(p.with_suffix(".json").read_text())
                       for p in (out, COMMITTED_TINY_MODEL))
    for key in STAMPS:
        made.pop(key), committed.pop(key)
    assert made.keys() == committed.keys()
    for key in ("format", "labels", "input", "output", "preprocess", "averaging",
                "quantization", "macs", "params"):
        assert made[key] == committed[key], key
    assert _tensors(out) == _tensors(COMMITTED_TINY_MODEL)
    assert op_names(out.read_bytes()) == op_names(COMMITTED_TINY_MODEL.read_bytes())
    assert made == committed
