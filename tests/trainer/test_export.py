"""trainer.to_tflite, trainer.sidecar and the TFLite scorer in trainer.scoring, on the real
tiny model."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.classify.averaging import views as _views
from tests.fixtures.models import TINY_BLOCKS, synthetic_faces
from trainer.data import LABELS, FerData, Split
from trainer.errors import ExportError
from trainer.metrics import compare
from trainer.model import precision_of
from trainer.scoring import TfliteModel, predict_scores
from trainer.sidecar import ModelInfo, export, quantization_of
from trainer.to_tflite import convert, float32_model, load_keras_model, op_names

SIDECAR_KEYS = {"format", "name", "version", "labels", "input", "output", "preprocess",
                "quantization", "accuracy", "macs", "params", "dataset", "sha256", "created",
                "averaging", "trained_precision", "labels_source"}


@pytest.fixture(scope="module")
def keras_model(tiny_keras_model: Path) -> Any:
    return load_keras_model(tiny_keras_model)


def _interpreter(path: Path) -> Any:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    return it


def test_tiny_model_loads_in_litert(tiny_model: Path) -> None:
    it = _interpreter(tiny_model)
    (inp,), (out,) = it.get_input_details(), it.get_output_details()
    assert list(inp["shape"]) == [1, 48, 48, 1]
    assert inp["dtype"] == np.uint8 and out["dtype"] == np.int8
    assert list(out["shape"]) == [1, len(LABELS)]


def test_sidecar_matches_file_and_interpreter(tiny_model: Path) -> None:
    meta = json.loads(tiny_model.with_suffix(".json").read_text())
    assert set(meta) == SIDECAR_KEYS
    assert meta["sha256"] == hashlib.sha256(tiny_model.read_bytes()).hexdigest()
    assert meta["format"] == "emotion-edge-model/1" and meta["labels"] == list(LABELS)
    it = _interpreter(tiny_model)
    for part, detail in (("input", it.get_input_details()[0]),
                         ("output", it.get_output_details()[0])):
        scale, zero = detail["quantization"]
        assert meta[part]["dtype"] == np.dtype(detail["dtype"]).name
        assert (meta[part]["scale"], meta[part]["zero_point"]) == (pytest.approx(scale), zero)
    assert meta["input"]["shape"] == [1, 48, 48, 1]
    assert meta["input"]["scale"] == 0.0  # uint8 Keras input: raw pixels, not quantized
    assert meta["output"]["scale"] > 0
    assert meta["quantization"] == "int8" and meta["macs"] > 0 and meta["params"] > 0
    assert meta["trained_precision"] == "float32"
    assert meta["preprocess"] == {"grayscale": True, "face_margin": 0.0, "resize": "area",
                                  "pixel_range": [0, 255]}
    assert datetime.fromisoformat(meta["created"]).tzinfo is not None


def test_int8_model_has_only_builtin_int8_ops(tiny_model: Path) -> None:
    names = op_names(tiny_model.read_bytes(), "int8")
    assert {"CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(names)
    assert not [n for n in names if n.startswith("Flex") or n == "CUSTOM"]
    assert "DELEGATE" not in names  # the file's own ops, not XNNPACK's rewrite


@pytest.fixture(scope="module")
def float32_content(keras_model: Any) -> bytes:
    return convert(keras_model, "float32", np.zeros((0, 48, 48), np.uint8))


def test_float_model_fails_the_int8_op_check(float32_content: bytes) -> None:
    content = float32_content
    assert "CONV_2D" in op_names(content, "float32")
    with pytest.raises(ExportError, match="computes in float"):
        op_names(content, "int8")


def test_keras_and_int8_agree_on_synthetic_faces(keras_model: Any, tiny_model: Path) -> None:
    faces, labels = synthetic_faces(seed=7)  # faces the converter did not calibrate on
    k = predict_scores(keras_model, faces)
    t = predict_scores(TfliteModel(tiny_model), faces)
    assert t.shape == k.shape == (len(faces), len(LABELS))
    assert np.abs(k - t).max() < 0.05  # int8 output steps are 1/256
    assert (k.argmax(1) == t.argmax(1)).mean() >= 0.95
    assert (t.argmax(1) == labels).mean() >= 0.9  # the fixture model is not a flat 1/7


def test_batched_and_per_face_scores_match(tiny_model: Path) -> None:
    faces, _ = synthetic_faces(per_class=3, seed=3)
    batched = TfliteModel(tiny_model).scores(faces[..., None], batch_size=8)
    single = TfliteModel(tiny_model)
    single.is_resizable = False
    np.testing.assert_array_equal(batched, single.scores(faces[..., None]))


def test_quantized_input_uses_the_interpreter_scale(tmp_path: Path) -> None:
    """A float-input model converts to an int8 input with a real scale; feeding raw pixels
    through TfliteModel must still match Keras."""
    import keras

    keras.utils.set_random_seed(1)
    inp = keras.Input((48, 48, 1), dtype="float32")
    x = keras.layers.Rescaling(1 / 255)(inp)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(7, activation="softmax")(x))
    faces, _ = synthetic_faces(per_class=4, seed=2)
    tfl = TfliteModel(convert(model, "int8", faces.astype(np.float32)))
    scale, _ = tfl.input["quantization"]
    assert tfl.input["dtype"] == np.int8 and scale > 0
    diff = predict_scores(model, faces) - predict_scores(tfl, faces)
    assert np.abs(diff).max() < 0.02


@pytest.mark.parametrize("mode", ["float32", "dynamic"])
def test_comparison_modes_keep_keras_scores(keras_model: Any, float32_content: bytes,
                                            mode: str) -> None:
    faces, _ = synthetic_faces(per_class=2, seed=4)
    content = float32_content if mode == "float32" else convert(keras_model, mode, faces)
    tfl = TfliteModel(content)
    assert quantization_of(tfl)["output"]["dtype"] == "float32"
    diff = predict_scores(keras_model, faces) - predict_scores(tfl, faces)
    assert np.abs(diff).max() < (1e-4 if mode == "float32" else 0.05)


def test_export_writes_the_pair_and_strips_a_suffix(tiny_model: Path, tmp_path: Path) -> None:
    content = tiny_model.read_bytes()
    info = ModelInfo(name="n", version=None, mode="int8", macs=1, params=2, accuracy={},
                     dataset={})
    tfl, side = export(content, info, tmp_path / "sub" / "emotion-edge.tflite")
    assert (tfl.name, side.name) == ("emotion-edge.tflite", "emotion-edge.json")
    assert sorted(p.name for p in tfl.parent.iterdir()) == [side.name, tfl.name]  # no .partial
    meta = json.loads(side.read_text())
    assert tfl.read_bytes() == content
    assert meta["version"].endswith(meta["sha256"][:8])  # default version names the file


def test_export_writes_through_links(tiny_model: Path, tmp_path: Path) -> None:
    """models/emotion-edge.* link to the package's copy: an export there updates that copy."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "models").mkdir()
    for suffix in (".tflite", ".json"):
        (tmp_path / "assets" / f"m{suffix}").write_bytes(b"old")
        (tmp_path / "models" / f"m{suffix}").symlink_to(f"../assets/m{suffix}")
    info = ModelInfo(name="n", version="1", mode="int8", macs=1, params=2, accuracy={},
                     dataset={})
    export(tiny_model.read_bytes(), info, tmp_path / "models" / "m")
    assert all((tmp_path / "models" / f"m{s}").is_symlink() for s in (".tflite", ".json"))
    assert (tmp_path / "assets" / "m.tflite").read_bytes() == tiny_model.read_bytes()
    assert json.loads((tmp_path / "assets" / "m.json").read_text())["version"] == "1"


def test_compare_reports_each_split(keras_model: Any, tiny_model: Path) -> None:
    faces, labels = synthetic_faces(seed=9)
    half = len(labels) // 2
    train = Split(faces[:half], labels[:half])
    test = Split(faces, labels)  # half of it is "in Training": the clean part is the rest
    data = FerData(train=train, public=test, private=test, source="synthetic")
    result = compare(keras_model, TfliteModel(tiny_model), data)
    for name in ("PublicTest", "PrivateTest"):
        row = result[name]
        assert row["n"] == len(labels) and row["clean"]["n"] == len(labels) - half
        assert 0.9 <= row["agreement"] <= 1.0
        assert row["keras"] == pytest.approx((predict_scores(keras_model, faces).argmax(1)
                                              == labels).mean(), abs=1e-4)
        assert set(row["flip_averaged"]) == {"keras", "tflite"}
        assert set(row["averaged"]) == {"none", "flip", "crops"}
        assert row["averaged"]["none"]["keras"] == row["keras"]
        assert row["averaged"]["flip"] == row["flip_averaged"]
        views = _views(faces, "crops")
        crops = np.mean([predict_scores(keras_model, v) for v in views], axis=0)
        assert row["averaged"]["crops"]["keras"] == pytest.approx(
            (crops.argmax(1) == labels).mean(), abs=1e-4)
    assert compare(keras_model, TfliteModel(tiny_model), data, limit=10)["PublicTest"]["n"] == 10


def test_the_sidecar_names_its_default_averaging(tiny_model: Path) -> None:
    meta = json.loads(tiny_model.with_suffix(".json").read_text())
    assert meta["averaging"] == {"default": "flip", "continuous": "flip", "shift_px": 3,
                                 "invokes": {"none": 1, "flip": 2, "crops": 10}}


def test_export_refuses_a_sidecar_the_edge_would_not_load(
        tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trainer.sidecar

    monkeypatch.setitem(trainer.sidecar.PREPROCESS, "resize", "cubic")
    info = ModelInfo(name="t", version="1", mode="int8", macs=1, params=1, accuracy={},
                     dataset={})
    with pytest.raises(ExportError, match=r"would not load on the edge.*resize"):
        export(tiny_model.read_bytes(), info, tmp_path / "m")
    assert not list(tmp_path.iterdir()), "nothing written"


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="model not found"):
        load_keras_model(tmp_path / "nope.keras")


@pytest.mark.parametrize("content", [b"this is not a keras archive", b"PK\x03\x04broken zip"])
def test_corrupt_model_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "model.keras"
    bad.write_bytes(content)
    with pytest.raises(ExportError, match="cannot load Keras model"):
        load_keras_model(bad)


def test_truncated_keras_archive_is_a_clear_error(tiny_keras_model: Path, tmp_path: Path) -> None:
    bad = tmp_path / "model.keras"
    bad.write_bytes(tiny_keras_model.read_bytes()[:-200])  # a zip whose directory is cut off
    with pytest.raises(ExportError, match="cannot load Keras model"):
        load_keras_model(bad)


def test_wrong_input_shape_is_a_clear_error(tmp_path: Path) -> None:
    from trainer.model import ModelShape, build_model

    path = tmp_path / "big.keras"
    build_model(input_shape=(64, 64, 1), shape=ModelShape(blocks=((2, 1), (2, 1)))).save(path)
    with pytest.raises(ExportError, match=r"model input is \(64, 64, 1\)"):
        load_keras_model(path)


def test_default_model_converts_to_int8() -> None:
    """The shipped architecture (default ModelShape), untrained, converts with int8 ops only."""
    from trainer.model import build_model

    faces, _ = synthetic_faces(per_class=4)
    content = convert(build_model(), "int8", faces)
    assert "CONV_2D" in op_names(content, "int8")
    details = quantization_of(TfliteModel(content))
    assert details["input"]["shape"] == [1, 48, 48, 1] and details["output"]["dtype"] == "int8"


@pytest.fixture(scope="module")
def bf16_built(keras_model: Any) -> Any:
    """The tiny network built under the global mixed_bfloat16 policy, holding the tiny
    model's trained weights: what a bf16 run saves, without the training (a mixed policy
    keeps its variables in float32, so the weights are the same numbers)."""
    import keras

    from trainer.model import ModelShape, build_model

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model(shape=ModelShape(blocks=TINY_BLOCKS))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model.set_weights(keras_model.get_weights())
    assert model.get_layer("block1_conv1").compute_dtype == "bfloat16"  # bf16 math, as trained
    return model


def test_a_model_built_under_mixed_bfloat16_converts_to_its_float32_twins_int8(
        bf16_built: Any, tiny_model: Path) -> None:
    """The issue-21 failure: bf16 Conv2D/MaxPool/Relu have no builtin op. The converter must
    convert the float32 network with the same weights: the same int8 model as the float32
    original's (the fixture, calibrated on the same faces)."""
    content = convert(bf16_built, "int8", synthetic_faces(seed=1)[0])
    assert "CONV_2D" in op_names(content, "int8")
    faces, _ = synthetic_faces(seed=7)
    np.testing.assert_array_equal(predict_scores(TfliteModel(content), faces),
                                  predict_scores(TfliteModel(tiny_model), faces))
    assert bf16_built.get_layer("block1_conv1").compute_dtype == "bfloat16"  # left as it was


def test_the_float32_copy_has_the_weights_and_computes_in_float32(
        bf16_built: Any, keras_model: Any) -> None:
    copy = float32_model(bf16_built)
    assert (precision_of(bf16_built), precision_of(copy)) == ("mixed_bfloat16", "float32")
    assert copy.inputs[0].dtype == "uint8"  # raw pixels in, as the edge feeds them
    faces, _ = synthetic_faces(seed=7)
    np.testing.assert_allclose(predict_scores(copy, faces), predict_scores(keras_model, faces),
                               atol=1e-5)  # the float32 original's function, not bf16's
    assert float32_model(keras_model) is keras_model  # nothing to rebuild
