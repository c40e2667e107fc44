"""Golden vectors: a few recorded int8 inputs with the exact int8 outputs of the model, run
at start so a runtime that computes wrong answers is refused instead of trusted.

A LiteRT, XNNPACK or CPU combination can be wrong without failing: an emulated arm64 core
gave "angry 0.57" for a face every real core calls "happy 0.88". The sidecar's `golden`
block (written by `python scripts/golden_vectors.py MODEL.tflite`) holds the model's sha256,
the runtime and CPU that recorded it, and per face the input tensor (base64) and the raw
output. A sidecar without the block, or with one recorded for another model file, loads
as before (the check is skipped, the latter with a warning).
"""

from __future__ import annotations

import base64
import logging
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import ModelError

log = logging.getLogger(__name__)

MAX_STEPS = 1  # a saturated or clear face: correct kernels round it alike, or one step off
WRITER = "python scripts/golden_vectors.py"


def runtime_name(interpreter_class: type) -> str:
    """"ai-edge-litert 1.4.0" and the like: the package that runs the model."""
    module = interpreter_class.__module__.split(".")[0]
    package = {"ai_edge_litert": "ai-edge-litert", "tflite_runtime": "tflite-runtime",
               "tensorflow": "tensorflow"}.get(module, module)
    try:
        return f"{package} {metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return package


def cpu_name() -> str:
    """The CPU as /proc/cpuinfo names it (model name, else Model/Hardware), with the arch."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or fields.get("Model") or fields.get("Hardware") or "?"
    return f"{name} ({platform.machine()})"


def record(interpreter: Any, inputs: Sequence[tuple[str, np.ndarray]], model_sha256: str,
           runtime: str, reference: Any = None) -> dict[str, Any]:
    """The `golden` block for `inputs` (name, input tensor without the batch axis).

    `reference`, a second interpreter with other kernels (LiteRT's built-in ones against
    XNNPACK), measures how far two correct runtimes drift apart on each face: rounding
    differences add up through the layers, to a few steps where no score saturates. Each
    vector then allows twice that drift, and at least MAX_STEPS.
    """
    vectors = []
    for name, tensor in inputs:
        output = invoke(interpreter, tensor)
        drift = 0 if reference is None else _steps(invoke(reference, tensor), output)
        vectors.append({"name": name, "dtype": str(tensor.dtype), "shape": list(tensor.shape),
                        "input": base64.b64encode(tensor.tobytes()).decode(),
                        "output": [int(v) for v in output],
                        "max_steps": max(MAX_STEPS, 2 * drift)})
    return {"model_sha256": model_sha256, "runtime": runtime, "cpu": cpu_name(),
            "max_steps": MAX_STEPS, "vectors": vectors}


def _steps(got: np.ndarray, expected: np.ndarray) -> int:
    """Largest difference in quantization steps; -1 for a different shape."""
    if got.shape != expected.shape:
        return -1
    return int(np.abs(got.astype(np.int64) - expected.astype(np.int64)).max())


def invoke(interpreter: Any, tensor: np.ndarray) -> np.ndarray:
    """The raw output tensor for one input tensor (no batch axis)."""
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    interpreter.set_tensor(inp["index"], tensor[np.newaxis])
    interpreter.invoke()
    raw: np.ndarray = interpreter.get_tensor(out["index"])[0]
    return raw.copy()


def check(interpreter: Any, golden: Mapping[str, Any] | None, model_sha256: str,
          model_path: Path, runtime: str) -> None:
    """ModelError when a golden vector's output is off by more than `max_steps`."""
    if golden is None:
        return
    if golden.get("model_sha256") != model_sha256:
        log.warning("%s: the sidecar's golden vectors were recorded for another model file; "
                    "skipping them (re-record: %s %s)", model_path, WRITER, model_path)
        return
    try:
        default_steps = int(golden.get("max_steps", MAX_STEPS))
        vectors = [(str(v["name"]), _tensor(v), np.asarray(v["output"], np.int64),
                    int(v.get("max_steps", default_steps))) for v in golden["vectors"]]
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"{model_path}: bad golden vectors in the sidecar ({e}); re-record "
                         f"them: {WRITER} {model_path}") from e
    for name, tensor, expected, max_steps in vectors:
        got = invoke(interpreter, tensor).astype(np.int64)
        steps = _steps(got, expected)
        if steps < 0 or steps > max_steps:
            raise ModelError(_mismatch(model_path, name, got, expected, steps, max_steps,
                                       runtime, golden))


def _tensor(vector: Mapping[str, Any]) -> np.ndarray:
    raw = base64.b64decode(str(vector["input"]), validate=True)
    return np.frombuffer(raw, np.dtype(str(vector["dtype"]))).reshape(vector["shape"])


def _mismatch(model_path: Path, name: str, got: np.ndarray, expected: np.ndarray, steps: int,
              max_steps: int, runtime: str, golden: Mapping[str, Any]) -> str:
    off = f"{steps} quantization steps off" if steps >= 0 else "a different output shape"
    return (f"{model_path}: this runtime computes wrong answers: golden face {name!r} gives "
            f"{got.tolist()}, the sidecar records {expected.tolist()} ({off}, at most "
            f"{max_steps} allowed) with {runtime} on {cpu_name()}; "
            f"they were recorded with {golden.get('runtime', '?')} on "
            f"{golden.get('cpu', '?')}. Fix: pin that LiteRT version (pip install "
            f"'{str(golden.get('runtime', 'ai-edge-litert')).replace(' ', '==')}'), or turn "
            "XNNPACK off (classifier.is_xnnpack_enabled = false)")
