"""The model contract: a .tflite and its .json sidecar (same stem), checked before use.

The sidecar is the only thing the trainer and the edge share: labels in output order, input
shape and dtype, quantization and preprocessing. The edge holds no label constants.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from edge.assets import asset_path
from edge.calibration import Calibration, calibration_of
from edge.errors import ModelError

# the test-time averagings a sidecar may name; their views are in edge/classify/averaging.py
Averaging = Literal["none", "flip", "crops"]
AVERAGINGS: tuple[str, ...] = get_args(Averaging)
FORMAT = "emotion-edge-model/1"
MODEL_FILE = "emotion-edge.tflite"
INSTALLED_MODELS = Path("/opt/emotion-edge/models")  # where scripts/install-pi.sh puts them
RESIZE_MODES = ("area", "linear", "nearest")
_REQUIRED = ("format", "name", "version", "labels", "input", "output", "preprocess", "sha256")


@dataclass(frozen=True)
class ModelContract:
    """What the classifier needs to know about a model, read from its sidecar."""

    path: Path
    name: str
    version: str
    labels: tuple[str, ...]
    input_shape: tuple[int, ...]  # [1, height, width, channels]
    input_dtype: str
    output_dtype: str
    is_grayscale: bool
    face_margin: float  # fraction of the box side added on each side before cropping
    resize: str
    pixel_range: tuple[float, float]  # what pixel values 0..255 are mapped to before quantizing
    averaging: str = "flip"  # test-time averaging for triggered captures (button, MQTT, ...)
    continuous_averaging: str = "flip"  # for continuous mode, where every millisecond repeats
    # per averaging: bias and temperature fitted with it (none in older sidecars)
    calibrations: Mapping[str, Calibration] = field(default_factory=dict)
    sha256: str = ""  # of the model file
    golden: Mapping[str, Any] | None = None  # recorded outputs (edge/classify/golden.py)

    def calibration(self, averaging: str) -> Calibration:
        return self.calibrations.get(averaging, Calibration())

    @property
    def display_name(self) -> str:
        return f"{self.name}@{self.version}"


def default_model_paths() -> list[Path]:
    """Where the model is looked for without `classifier.model_path`: the Pi install (a
    model copied there replaces the packaged one), then the model inside the package."""
    return [INSTALLED_MODELS / MODEL_FILE, asset_path(MODEL_FILE)]


def resolve_model_path(configured: Path | None) -> Path:
    """The configured model, or the first default that exists; ModelError says where it looked."""
    if configured is not None:
        return configured
    candidates = default_model_paths()
    for path in candidates:
        if path.is_file():
            return path
    looked = ", ".join(str(p) for p in candidates)
    raise ModelError(f"no model found (looked in {looked}); set classifier.model_path "
                     "or pass --model FILE")


def sidecar_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def load_contract(model_path: Path) -> ModelContract:
    """Read and check the sidecar of `model_path`, and the model file's sha256."""
    if not model_path.is_file():
        raise ModelError(f"model file not found: {model_path} (check classifier.model_path)")
    meta = _read_sidecar(sidecar_path(model_path))
    where = sidecar_path(model_path)
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    if digest != str(meta["sha256"]).lower():
        raise ModelError(f"{model_path}: sha256 {digest[:12]}… does not match {where} "
                         f"({str(meta['sha256'])[:12]}…); the model and its sidecar are from "
                         "different exports: copy both files from the same export")
    return contract_of(model_path, meta)


def _read_sidecar(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ModelError(f"model sidecar not found: {path} (the .json written by the export "
                         "must sit beside the .tflite with the same stem)") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"{path}: not valid JSON ({e}); re-export the model") from e
    if not isinstance(meta, dict):
        raise ModelError(f"{path}: expected a JSON object; re-export the model")
    _check_keys(meta, path)
    return meta


def _check_keys(meta: Mapping[str, Any], where: Path) -> None:
    missing = [key for key in _REQUIRED if key not in meta]
    if missing:
        raise ModelError(f"{where}: missing {', '.join(missing)}; re-export the model")
    if meta["format"] != FORMAT:
        raise ModelError(f"{where}: format {meta['format']!r}, expected {FORMAT!r}; "
                         "re-export the model with this version of the converter")


def contract_of(model_path: Path, meta: Mapping[str, Any]) -> ModelContract:
    """The contract a sidecar document states, checked as `load_contract` checks it.

    The trainer's exporter runs every sidecar it writes through this before writing, so
    the writer and the reader of the contract cannot drift apart.
    """
    where = sidecar_path(model_path)
    _check_keys(meta, where)
    try:
        return _contract(model_path, meta)
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"{where}: bad or missing field {e}; re-export the model") from e


def _contract(model_path: Path, meta: Mapping[str, Any]) -> ModelContract:
    labels = tuple(str(label) for label in meta["labels"])
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"'labels' must be 2 or more distinct names, got {list(labels)}")
    shape = tuple(int(n) for n in meta["input"]["shape"])
    if len(shape) != 4 or shape[3] not in (1, 3):
        raise ValueError(f"'input.shape' must be [1, height, width, 1 or 3], got {list(shape)}")
    pre = meta["preprocess"]
    is_gray = bool(pre.get("grayscale", True))
    if is_gray != (shape[3] == 1):
        raise ValueError(f"'preprocess.grayscale' = {is_gray} but the input has "
                         f"{shape[3]} channels")
    resize = str(pre.get("resize", "area"))
    if resize not in RESIZE_MODES:
        raise ValueError(f"'preprocess.resize' = {resize!r}, expected one of {RESIZE_MODES}")
    low, high = (float(v) for v in pre.get("pixel_range", (0, 255)))
    # sidecars before the averaging block were measured with flip averaging, the old default
    averaging = _averaging(meta, "default", "flip")
    continuous = _averaging(meta, "continuous", averaging)
    calibrations = {a: calibration_of(block, labels) for a, block in
                    meta.get("calibration", {}).get("by_averaging", {}).items()}
    if not set(calibrations) <= set(AVERAGINGS):
        raise ValueError(f"'calibration.by_averaging' names {sorted(calibrations)}, expected "
                         f"some of {AVERAGINGS}")
    return ModelContract(
        path=model_path, name=str(meta["name"]), version=str(meta["version"]), labels=labels,
        input_shape=shape, input_dtype=str(meta["input"]["dtype"]),
        output_dtype=str(meta["output"]["dtype"]), is_grayscale=is_gray,
        face_margin=float(pre.get("face_margin", 0.0)), resize=resize, pixel_range=(low, high),
        averaging=averaging, continuous_averaging=continuous, calibrations=calibrations,
        sha256=str(meta["sha256"]).lower(), golden=_golden(meta))


def _golden(meta: Mapping[str, Any]) -> Mapping[str, Any] | None:
    golden = meta.get("golden")
    if golden is not None and not isinstance(golden, Mapping):
        raise ValueError("'golden' must be an object (python scripts/golden_vectors.py)")
    return golden


def _averaging(meta: Mapping[str, Any], key: str, default: str) -> str:
    averaging = str(meta.get("averaging", {}).get(key, default))
    if averaging not in AVERAGINGS:
        raise ValueError(f"'averaging.{key}' = {averaging!r}, expected one of {AVERAGINGS}")
    return averaging


def check_interpreter(contract: ModelContract, inputs: Sequence[Mapping[str, Any]],
                      outputs: Sequence[Mapping[str, Any]]) -> None:
    """The loaded model must match its sidecar: one input of the stated shape, one output
    with one score per label."""
    where = f"{contract.path}"
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(f"{where}: expected 1 input and 1 output, got {len(inputs)} and "
                         f"{len(outputs)}; this is not an emotion-edge model")
    in_shape = tuple(int(n) for n in inputs[0]["shape"])
    if in_shape[1:] != contract.input_shape[1:]:
        raise ModelError(f"{where}: input shape {list(in_shape)} but the sidecar says "
                         f"{list(contract.input_shape)}; re-export the model")
    n_scores = int(outputs[0]["shape"][-1])
    if n_scores != len(contract.labels):
        raise ModelError(f"{where}: the model gives {n_scores} scores but the sidecar lists "
                         f"{len(contract.labels)} labels; re-export the model")
