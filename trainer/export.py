"""Keras model in, the model the Pi runs out: `<stem>.tflite` plus its `<stem>.json` contract.

`convert` turns a Keras model into full-integer int8 TFLite (only builtin int8 ops, so the
LiteRT runtime needs no TensorFlow), or float32 / dynamic-range for comparison, through
`TFLiteConverter.from_keras_model` (the SavedModel route keeps augmentation layers in
training mode and fails). `export` writes the two files; the quantization in the sidecar is
read back from the LiteRT interpreter, never assumed. `run` is the whole converter: load,
convert, verify against Keras on PublicTest and PrivateTest, gate, write.

Whatever dtype policy the model was trained under (a bf16 run saves `mixed_bfloat16` in
each layer), what is converted and verified is its float32 network with the same weights
(`float32_model`): TFLite has no builtin bf16 ops, and the Pi computes in int8 anyway.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np

from edge.errors import ModelError
from edge.model_contract import FORMAT, contract_of
from trainer.data import FACE_SIZE, LABELS, Split, limit_split
from trainer.scoring import TfliteModel

MODES = ("int8", "float32", "dynamic")
PREPROCESS = {"grayscale": True, "face_margin": 0.0, "resize": "area", "pixel_range": [0, 255]}
INPUT_SHAPE = (FACE_SIZE, FACE_SIZE, 1)


class ExportError(ValueError):
    """The model cannot be loaded, converted or trusted; the message says what to change."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_keras_model(path: Path) -> Any:
    """Load a `.keras` model and check it takes 48x48x1 faces and gives one score per label."""
    if not path.is_file():
        raise ExportError(f"model not found: {path} (pass --model runs/<name>/model.keras)")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ExportError(f"cannot load Keras model {path}: not a .keras archive, the file is "
                          "damaged or something else (pass the model.keras a training run wrote)")
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # keras raises many types for a bad file; all mean "not a model"
        raise ExportError(f"cannot load Keras model {path}: {e} "
                          "(pass the model.keras a training run wrote)") from e
    shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else None
    if shape != INPUT_SHAPE:
        raise ExportError(f"{path}: model input is {shape}, expected one {INPUT_SHAPE} input "
                          "(48x48 grayscale faces; build it with trainer.model.build_model)")
    if tuple(model.outputs[0].shape[1:]) != (len(LABELS),):
        raise ExportError(f"{path}: model output is {tuple(model.outputs[0].shape[1:])}, "
                          f"expected ({len(LABELS)},) scores for {list(LABELS)}")
    return model


def float32_model(model: Any) -> Any:
    """The same network and weights computing in float32; a float32 model comes back as is.

    Traced under a bf16 policy the graph has bf16 Conv2D, MaxPool and Relu, which no TFLite
    builtin op takes, and conversion fails (issue 21). A mixed policy keeps the variables in
    float32, so the copy holds exactly the trained weights.
    """
    from trainer.model import precision_of

    trained = precision_of(model)
    if trained == "float32":
        return model
    import keras

    def as_float32(layer: Any) -> Any:
        return type(layer).from_config({**layer.get_config(), "dtype": "float32"})

    try:
        copy = keras.models.clone_model(model, clone_function=as_float32)
        copy.set_weights(model.get_weights())
    except Exception as e:  # keras raises many types for a layer it cannot rebuild
        raise ExportError(f"cannot rebuild the {trained} model in float32 for conversion: {e} "
                          "(build it with trainer.model.build_model)") from e
    if precision_of(copy) != "float32":  # e.g. a nested model whose layers kept their policy
        raise ExportError(f"the float32 rebuild of the {trained} model still computes in "
                          f"{precision_of(copy)}; build it with trainer.model.build_model")
    return copy


def _representative(model: Any, faces: np.ndarray) -> Callable[[], Iterator[list[np.ndarray]]]:
    dtype = model.inputs[0].dtype  # yield the Keras input's dtype or conversion stops
    def gen() -> Iterator[list[np.ndarray]]:
        for face in faces:
            yield [face.reshape(1, *INPUT_SHAPE).astype(dtype)]
    return gen


def convert(model: Any, mode: str, faces: np.ndarray) -> bytes:
    """TFLite flatbuffer for a Keras model, of any dtype policy (its float32 network is
    converted); int8 calibrates on `faces` (raw uint8, n x 48 x 48)."""
    import tensorflow as tf

    if mode not in MODES:
        raise ExportError(f"unknown mode {mode!r} (choose one of {', '.join(MODES)})")
    model = float32_model(model)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif mode == "int8":
        if len(faces) == 0:
            raise ExportError("int8 conversion needs representative faces (--rep-samples > 0)")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = _representative(model, faces)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8  # a uint8 Keras input stays raw uint8
        converter.inference_output_type = tf.int8
    try:
        with contextlib.redirect_stdout(StringIO()):  # it prints the whole SavedModel signature
            return bytes(converter.convert())
    except Exception as e:  # converter errors come from C++ with assorted types
        raise ExportError(f"TFLite conversion ({mode}) failed: {e}") from e


def op_names(content: bytes, mode: str = "int8") -> list[str]:
    """Operator names in a flatbuffer; Flex or custom ops, or float math in int8, are errors.

    In int8 mode only the input's CAST and QUANTIZE may produce float tensors: every
    convolution, pooling and dense op must compute in int8.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:  # without the default delegate, so the ops are the file's own
        it = Interpreter(model_content=content, experimental_op_resolver_type=(
            OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
        it.allocate_tensors()
        ops, tensors = it._get_ops_details(), it.get_tensor_details()
    except (RuntimeError, ValueError) as e:
        raise ExportError(f"LiteRT cannot load the converted model: {e}") from e
    names = sorted({op["op_name"] for op in ops})
    foreign = [n for n in names if n.startswith("Flex") or n.upper() == "CUSTOM"]
    if foreign:
        raise ExportError(f"converted model needs ops the Pi runtime lacks: {foreign}")
    dtypes = {t["index"]: np.dtype(t["dtype"]) for t in tensors}
    floating = sorted({op["op_name"] for op in ops if op["op_name"] not in _FLOAT_OK
                       and any(dtypes[i].kind == "f" for i in op["outputs"])})
    if mode == "int8" and floating:
        raise ExportError(f"int8 model still computes in float in {floating}")
    return names


_FLOAT_OK = frozenset({"CAST", "QUANTIZE", "DEQUANTIZE"})


def quantization_of(tfl: TfliteModel) -> dict[str, dict[str, Any]]:
    """Input and output dtype / scale / zero point, as the interpreter reports them."""
    def part(detail: dict[str, Any]) -> dict[str, Any]:
        scale, zero = detail["quantization"]
        return {"dtype": np.dtype(detail["dtype"]).name, "scale": float(scale),
                "zero_point": int(zero)}
    return {"input": {"shape": [int(n) for n in tfl.input["shape"]], **part(tfl.input)},
            "output": part(tfl.output)}


def median_latency_ms(content: bytes, face: np.ndarray, runs: int = 200) -> float:
    """Median wall time of one single-face invoke on one thread, after a warm-up."""
    tfl = TfliteModel(content, num_threads=1)
    x = tfl.quantize(face.reshape(1, *INPUT_SHAPE))
    tfl.interpreter.set_tensor(tfl.input["index"], x)
    times = []
    for _ in range(runs + 10):
        t0 = time.perf_counter()
        tfl.interpreter.invoke()
        times.append(time.perf_counter() - t0)
    return float(np.median(times[10:]) * 1000)


@dataclass(frozen=True)
class ModelInfo:
    """What the sidecar says about the model beyond its file: identity, cost, provenance."""

    name: str
    version: str | None
    mode: str
    macs: int
    params: int
    accuracy: dict[str, Any]
    dataset: dict[str, Any]
    averaging: str = "flip"
    trained_precision: str | None = None  # the Keras dtype policy of training; None: unknown
    continuous_averaging: str = "flip"
    crowd: dict[str, Any] | None = None  # trainer.crowd figures per averaging, when FER+ exists
    labels_source: str | None = None  # what the model learned: fer2013 or ferplus (train.json)


def sidecar(content: bytes, info: ModelInfo) -> dict[str, Any]:
    """The `emotion-edge-model/1` contract for a flatbuffer (keys exactly as the edge reads)."""
    sha = hashlib.sha256(content).hexdigest()
    now = datetime.now(UTC).replace(microsecond=0)
    io = quantization_of(TfliteModel(content))
    return {"format": FORMAT, "name": info.name,
            "version": info.version or f"{now:%Y.%m.%d}+{sha[:8]}",
            "labels": list(LABELS), "input": io["input"], "output": io["output"],
            "preprocess": dict(PREPROCESS),
            "averaging": averaging_block(info.averaging, info.continuous_averaging),
            "quantization": info.mode,
            "accuracy": info.accuracy, **_crowd_blocks(info.crowd),
            "labels_source": info.labels_source, "macs": info.macs, "params": info.params,
            "dataset": info.dataset, "trained_precision": info.trained_precision,
            "sha256": sha, "created": now.isoformat()}


def _crowd_blocks(crowd: dict[str, Any] | None) -> dict[str, Any]:
    """The edge's calibration per averaging, and the FER+ figures it gives (trainer.crowd)."""
    if not crowd:
        return {}
    return {"calibration": {"by_averaging": {a: row["calibration"] for a, row in crowd.items()},
                            "fitted_on": "PublicTest"},
            "crowd": {a: {"PublicTest": row["PublicTest"], "PrivateTest": row["PrivateTest"],
                          "metric": "FER+ majority (strictly ahead of all 10 columns), "
                                    "calibrated scores"}
                      for a, row in crowd.items()}}


def averaging_block(default: str, continuous: str | None = None) -> dict[str, Any]:
    """What the edge averages for triggered captures and in continuous mode, and what each
    choice costs; the accuracy block holds each one's figures (`accuracy.<split>.averaged`)."""
    from edge.classify.averaging import SHIFT_PX, invokes
    from edge.model_contract import AVERAGINGS

    for chosen in (default, continuous or default):
        if chosen not in AVERAGINGS:
            raise ExportError(f"unknown averaging {chosen!r} (choose one of {AVERAGINGS})")
    return {"default": default, "continuous": continuous or default, "shift_px": SHIFT_PX,
            "invokes": {a: invokes(a) for a in AVERAGINGS}}


def remeasure(model: Path, data_path: Path, averaging: str,
              echo: Callable[[str], None] = print, ferplus: Path | None = None) -> int:
    """Re-score a shipped .tflite (its Keras original may be gone) with every averaging,
    refit its calibration by the rule where the FER+ votes are there, and rewrite its
    sidecar's figures, calibration and default; the model file is not touched."""
    from trainer.data import load_dataset
    from trainer.metrics import measure_tflite

    side_path = model.with_suffix(".json")
    meta = json.loads(side_path.read_text())
    if sha256_of(model) != meta.get("sha256"):
        raise ExportError(f"{model}: sha256 does not match {side_path}; re-export instead")
    data = load_dataset(data_path)
    tflite = TfliteModel(model)
    measured = measure_tflite(tflite, data)
    for split, row in measured.items():
        old = meta["accuracy"][split]
        if abs(old["tflite"] - row["tflite"]) > 1e-4:
            raise ExportError(f"{split}: one-pass accuracy {row['tflite']:.4f} differs from "
                              f"the sidecar's {old['tflite']:.4f}: not the same data or model")
        kept = old.get("averaged", {})
        old["averaged"] = {a: {**kept.get(a, {}), **v} for a, v in row["averaged"].items()}
        echo(f"{split}: " + ", ".join(f"{a} {v['tflite']:.2%}"
                                      for a, v in row["averaged"].items()))
    crowd = crowd_of(tflite, data, data_path, ferplus, meta["accuracy"], echo)
    if crowd:
        meta.update(_crowd_blocks(crowd))
    meta["averaging"] = averaging_block(averaging, meta.get("averaging", {}).get("continuous"))
    partial = side_path.with_name(side_path.name + ".partial")
    partial.write_text(json.dumps(meta, indent=2) + "\n")
    partial.replace(side_path)
    echo(f"wrote {side_path} (default averaging: {averaging})")
    return 0


def export(content: bytes, info: ModelInfo, out: Path) -> tuple[Path, Path]:
    """Write `<out>.tflite` and `<out>.json` side by side; returns both paths."""
    out = out.with_suffix("") if out.suffix in (".tflite", ".json") else out
    out.parent.mkdir(parents=True, exist_ok=True)
    tflite_path, json_path = out.with_name(out.name + ".tflite"), out.with_name(out.name + ".json")
    meta = sidecar(content, info)
    try:
        contract_of(tflite_path, meta)  # what the edge will read, or fail before writing
    except ModelError as e:
        raise ExportError(f"the sidecar would not load on the edge: {e}") from e
    text = json.dumps(meta, indent=2) + "\n"
    for link, data in ((tflite_path, content), (json_path, text.encode())):
        path = link.resolve()  # models/ links into edge/assets: replace the file, keep the link
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)  # a reader never sees half a file; the sidecar lands last
    return tflite_path, json_path


def representative_faces(train: Split, n: int, seed: int) -> np.ndarray:
    """n random Training faces, raw uint8 like the training input."""
    return limit_split(train, n, seed).images


def dataset_info(path: Path, limit_eval: int | None) -> dict[str, Any]:
    # the file name only: a full path would be the converting machine's
    return {"source": path.name, "name": path.stem, "sha256": sha256_of(path) if path.is_file()
            else None, "representative_split": "Training",
            "evaluated_splits": ["PublicTest", "PrivateTest"], "limit_eval": limit_eval}


@dataclass(frozen=True)
class ConvertRequest:
    """One converter run, as `scripts/convert_tflite.py` parses it; `out` is the file stem."""

    model: Path
    data: Path
    out: Path
    mode: str = "int8"
    max_drop: float = 1.0
    rep_samples: int = 300
    limit_eval: int | None = None
    name: str = "emotion-edge-cnn"
    version: str | None = None
    seed: int = 1234
    averaging: str = "flip"
    continuous_averaging: str = "flip"
    ferplus: Path | None = None  # FER+ votes; default: ferplus.npz beside `data`, if there


def _check_request(req: ConvertRequest) -> None:
    if req.mode not in MODES:
        raise ExportError(f"unknown mode {req.mode!r} (choose one of {', '.join(MODES)})")
    if req.mode == "int8" and req.rep_samples < 1:
        raise ExportError("--rep-samples must be at least 1 for int8 (a few hundred is right)")
    if req.limit_eval is not None and req.limit_eval < 1:
        raise ExportError("--limit-eval must be at least 1 (leave it out to score whole splits)")
    if not req.model.is_file():
        raise ExportError(f"model not found: {req.model} (pass --model runs/<name>/model.keras)")
    if not req.data.exists():
        raise ExportError(f"dataset not found: {req.data} (pass --data with the FER2013 .npz)")


def _split_line(name: str, row: dict[str, Any]) -> str:
    c, f, m = row["clean"], row["flip_averaged"], row["averaged"]["crops"]
    return (f"{name:<11} n={row['n']:<5} keras {row['keras']:.2%}  tflite {row['tflite']:.2%}  "
            f"agreement {row['agreement']:.2%} | clean n={c['n']}: {c['keras']:.2%} / "
            f"{c['tflite']:.2%} | flip-averaged {f['keras']:.2%} / {f['tflite']:.2%}"
            f" | crops {m['keras']:.2%} / {m['tflite']:.2%}")




def summary_lines(content: bytes, ops: list[str], accuracy: dict[str, Any],
                  latency_ms: float) -> list[str]:
    """The human-readable verification report the converter prints."""
    io = quantization_of(TfliteModel(content))
    i, o = io["input"], io["output"]
    return [f"size {len(content):,} bytes; ops: {' '.join(ops)}",
            f"input {i['dtype']} {i['shape']} scale {i['scale']:g} zero point {i['zero_point']}"
            f"; output {o['dtype']} scale {o['scale']:g} zero point {o['zero_point']}",
            *(_split_line(s, accuracy[s]) for s in ("PublicTest", "PrivateTest")),
            f"median single-face latency {latency_ms:.3f} ms (LiteRT, 1 thread)"]


def _float32_of(path: Path, echo: Callable[[str], None]) -> tuple[Any, str]:
    """The model to convert and to check Keras against: its float32 network, whatever policy
    it was trained under, which is returned too (for the sidecar)."""
    trained = load_keras_model(path)  # first: a bad file is refused before Keras loads
    from trainer.model import precision_of

    precision = precision_of(trained)
    echo(f"trained under {precision}" + ("" if precision == "float32" else
         "; converted and compared with Keras in float32 (the same weights)"))
    return float32_model(trained), precision


def _crowd(req: ConvertRequest, data: Any, tflite: TfliteModel, accuracy: dict[str, Any],
           echo: Callable[[str], None]) -> dict[str, Any] | None:
    return crowd_of(tflite, data, req.data, req.ferplus, accuracy, echo,
                    limit_eval=req.limit_eval, seed=req.seed)


def crowd_of(tflite: TfliteModel, data: Any, data_path: Path, ferplus: Path | None,
             accuracy: dict[str, Any], echo: Callable[[str], None],
             limit_eval: int | None = None, seed: int = 0) -> dict[str, Any] | None:
    """FER+ figures of the int8 model with the calibration fitted for it, when the votes
    exist; FER2013 accuracy per averaging then counts the calibrated answers, as the edge
    gives them (the uncalibrated figure is kept beside it)."""
    from dataclasses import replace

    from trainer.crowd import crowd_figures
    from trainer.ferplus import attach_votes, default_ferplus_path

    votes = ferplus or default_ferplus_path(data_path)
    if data_path.suffix != ".npz" or not votes.is_file():
        echo(f"no FER+ votes at {votes}: no calibration, no crowd figures")
        return None
    data = attach_votes(data, votes, data_path)
    if limit_eval is not None:
        data = replace(data, public=limit_split(data.public, limit_eval, seed),
                       private=limit_split(data.private, limit_eval, seed))
    crowd = crowd_figures(tflite, data)
    for averaging, row in crowd.items():
        for split in ("PublicTest", "PrivateTest"):
            cell = accuracy[split]["averaged"][averaging]
            cell["uncalibrated_tflite"] = cell["tflite"]
            cell["tflite"] = row[split]["fer2013_accuracy"]
        p = row["PrivateTest"]
        q = row["PublicTest"]
        echo(f"FER+, {averaging}, calibrated (tau {row['calibration']['tau']:g}, "
             f"T {row['calibration']['temperature']:g}): PublicTest majority "
             f"{q['accuracy']:.2%}, mean recall {q['mean_recall']:.2%}; PrivateTest majority "
             f"{p['accuracy']:.2%} (n={p['n']}), Barsoum {p['barsoum']['accuracy']:.2%} "
             f"(n={p['barsoum']['n']}), mean recall {p['mean_recall']:.2%}, "
             f"lowest {min(p['recall'].values()):.2f}, ECE {p['ece']:.3f}, "
             f"CE {p['cross_entropy']:.3f}, FER2013 {p['fer2013_accuracy']:.2%}")
    return crowd


def _labels_source(model: Path) -> str | None:
    """`fer2013` or `ferplus`, from the run's train.json beside the .keras, if it is there."""
    try:
        return str(json.loads((model.parent / "train.json").read_text())["config"]["labels"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _golden_line(tflite_path: Path) -> str:
    """Record the golden vectors the edge runs at start (edge/classify/golden.py)."""
    from edge.classify.golden_record import write_golden
    from edge.errors import EdgeError

    try:
        block = write_golden(tflite_path)
    except EdgeError as e:
        raise ExportError(f"wrote {tflite_path}, but could not record its golden vectors: "
                          f"{e}; fix that, then: python scripts/golden_vectors.py "
                          f"{tflite_path}") from e
    return (f"recorded {len(block['vectors'])} golden vectors with {block['runtime']} on "
            f"{block['cpu']}")


def run(req: ConvertRequest, echo: Callable[[str], None] = print) -> int:
    """Convert, verify against Keras, gate on --max-drop, write. 0 written, 1 rejected."""
    from trainer.data import load_dataset
    from trainer.metrics import compare

    _check_request(req)
    data = load_dataset(req.data)
    model, precision = _float32_of(req.model, echo)
    content = convert(model, req.mode, representative_faces(data.train, req.rep_samples,
                                                            req.seed))
    ops = op_names(content, req.mode)
    accuracy = compare(model, TfliteModel(content), data, req.limit_eval, req.seed)
    latency = median_latency_ms(content, data.public.images[0])
    for line in summary_lines(content, ops, accuracy, latency):
        echo(line)
    drops = {s: round((accuracy[s]["keras"] - accuracy[s]["tflite"]) * 100, 2)
             for s in ("PublicTest", "PrivateTest")}
    accuracy.update(metric="top-1 fraction", max_drop_points=req.max_drop)
    crowd = _crowd(req, data, TfliteModel(content), accuracy, echo)
    if max(drops.values()) > req.max_drop:
        echo(f"REJECTED: {req.mode} accuracy is {drops} points below Keras, more than "
             f"--max-drop {req.max_drop}; nothing written to {req.out}")
        return 1
    from trainer.model import count_macs  # Keras is loaded by now

    info = ModelInfo(name=req.name, version=req.version, mode=req.mode,
                     macs=count_macs(model), params=int(model.count_params()),
                     accuracy=accuracy, dataset=dataset_info(req.data, req.limit_eval),
                     averaging=req.averaging, trained_precision=precision,
                     continuous_averaging=req.continuous_averaging, crowd=crowd,
                     labels_source=_labels_source(req.model))
    tflite_path, json_path = export(content, info, req.out)
    echo(_golden_line(tflite_path))
    echo(f"drop vs Keras {drops} points (limit {req.max_drop}); wrote {tflite_path} "
         f"and {json_path}")
    return 0
