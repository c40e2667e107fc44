"""TfliteEmotionClassifier: a real LiteRT interpreter on the real tiny .tflite and sidecar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import pytest

import edge.model_contract
from edge.assets import asset_path
from edge.classify.config import ClassifierConfig
from edge.classify.tflite import TfliteEmotionClassifier, probabilities, quantize
from edge.errors import ModelError
from edge.model_contract import default_model_paths, load_contract, resolve_model_path
from edge.ports import FaceBox, Frame
from tests.edge.conftest import ASTRONAUT_FACE, frame_of

FACE = FaceBox(*ASTRONAUT_FACE)


def classifier(model: Path, averaging: Literal["none", "flip"] = "none") -> TfliteEmotionClassifier:
    return TfliteEmotionClassifier(ClassifierConfig(model_path=model, averaging=averaging))


def sidecar(model: Path) -> dict:
    return json.loads(model.with_suffix(".json").read_text())


def test_everything_comes_from_the_sidecar(tiny_model: Path, astronaut: np.ndarray) -> None:
    meta = sidecar(tiny_model)
    clf = classifier(tiny_model)
    emotion = clf.classify(frame_of(astronaut), FACE)
    assert clf.labels == tuple(meta["labels"])
    assert clf.model_name == f"{meta['name']}@{meta['version']}"
    assert list(emotion.scores) == meta["labels"]
    assert sum(emotion.scores.values()) == pytest.approx(1.0, abs=1e-3)
    assert emotion.confidence == max(emotion.scores.values())
    assert emotion.scores[emotion.label] == emotion.confidence


def test_the_tiny_model_separates_its_synthetic_classes(tiny_model: Path) -> None:
    """Fresh synthetic faces of the kind it was trained on (a bar whose row is the class)
    get their class: the classifier feeds what the model expects, not garbage."""
    from tests.fixtures.models import synthetic_faces

    faces, labels = synthetic_faces(per_class=2, seed=3)
    clf = classifier(tiny_model)
    whole = FaceBox(0, 0, 48, 48)
    predicted = [clf.labels.index(clf.classify(frame_of(face), whole).label) for face in faces]
    assert np.mean(np.array(predicted) == labels) >= 0.85, (predicted, labels.tolist())


def test_preprocess_is_gray_crop_and_area_resize(tiny_model: Path, astronaut: np.ndarray) -> None:
    face = classifier(tiny_model).preprocess(astronaut, FACE)
    x, y, w, h = ASTRONAUT_FACE
    gray = cv2.cvtColor(astronaut[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY)
    expected = cv2.resize(gray, (48, 48), interpolation=cv2.INTER_AREA)
    assert face.shape == (48, 48, 1) and face.dtype == np.uint8
    np.testing.assert_array_equal(face[..., 0], expected)


def test_a_box_beyond_the_frame_is_clipped(tiny_model: Path, astronaut: np.ndarray) -> None:
    clf = classifier(tiny_model)
    beyond, inside = FaceBox(480, 480, 100, 100), FaceBox(480, 480, 32, 32)  # 512x512 photo
    np.testing.assert_array_equal(clf.preprocess(astronaut, beyond),
                                  clf.preprocess(astronaut, inside))
    frame = frame_of(astronaut)
    assert clf.classify(frame, beyond).scores == clf.classify(frame, inside).scores


def test_flip_averaging_is_the_mean_of_face_and_mirror(tiny_model: Path,
                                                       astronaut: np.ndarray) -> None:
    x, y = ASTRONAUT_FACE[:2]
    crop = np.ascontiguousarray(astronaut[y:y + 48, x:x + 48])  # 48x48: no resize involved
    box = FaceBox(0, 0, 48, 48)
    plain = classifier(tiny_model)
    one = plain.classify(frame_of(crop), box).scores
    mirror = plain.classify(frame_of(np.ascontiguousarray(crop[:, ::-1])), box).scores
    both = classifier(tiny_model, averaging="flip").classify(frame_of(crop), box).scores
    for label in one:
        assert both[label] == pytest.approx((one[label] + mirror[label]) / 2, abs=1e-6)


def test_same_face_same_scores(tiny_model: Path, frame_640: Frame) -> None:
    clf = classifier(tiny_model, averaging="flip")
    assert clf.classify(frame_640, FACE) == clf.classify(frame_640, FACE)


def test_quantize_follows_the_interpreters_parameters() -> None:
    face = np.array([[0, 128, 255]], np.uint8)
    np.testing.assert_array_equal(quantize(face, np.dtype(np.uint8), 0.0, 0), face)
    np.testing.assert_array_equal(quantize(face, np.dtype(np.int8), 1.0, -128), [[-128, 0, 127]])
    np.testing.assert_allclose(quantize(face, np.dtype(np.float32), 0.0, 0, (0.0, 1.0)),
                               [[0.0, 128 / 255, 1.0]])
    np.testing.assert_array_equal(
        quantize(face, np.dtype(np.int8), 1 / 255, -128, (0.0, 1.0)), [[-128, 0, 127]])


def test_probabilities_dequantize_and_normalise() -> None:
    raw = np.array([-128, 127], np.int8)  # a quantized softmax: scale 1/256, zero point -128
    np.testing.assert_allclose(probabilities(raw, 1 / 256, -128), [0.0, 1.0])
    logits = probabilities(np.array([2.0, 0.0], np.float32), 0.0, 0)
    assert logits.sum() == pytest.approx(1.0) and logits[0] > 0.8


# --- what a user can get wrong: each is a ModelError that says what to do --------------


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model file not found"):
        classifier(tmp_path / "absent.tflite")


def test_missing_sidecar(model_copy: Path) -> None:
    model_copy.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match=r"sidecar not found: .*tiny\.json"):
        classifier(model_copy)


def test_corrupt_sidecar(model_copy: Path) -> None:
    model_copy.with_suffix(".json").write_text('{"format": ')
    with pytest.raises(ModelError, match=r"not valid JSON.*re-export"):
        classifier(model_copy)


def test_sha256_mismatch(model_copy: Path) -> None:
    with model_copy.open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelError, match=r"sha256 .* does not match .*same export"):
        classifier(model_copy)


def write_sidecar(model: Path, **changes: object) -> None:
    meta = sidecar(model)
    meta.update(changes)
    model.with_suffix(".json").write_text(json.dumps(meta))


def test_corrupt_model_with_a_matching_sha(model_copy: Path) -> None:
    import hashlib

    model_copy.write_bytes(b"TFL3 but not really a flatbuffer" * 10)
    write_sidecar(model_copy, sha256=hashlib.sha256(model_copy.read_bytes()).hexdigest())
    with pytest.raises(ModelError, match="not a loadable TFLite model"):
        classifier(model_copy)


def test_wrong_label_count(model_copy: Path) -> None:
    write_sidecar(model_copy, labels=["angry", "happy", "sad"])
    with pytest.raises(ModelError, match="gives 7 scores but the sidecar lists 3 labels"):
        classifier(model_copy)


def test_wrong_format_and_missing_keys(model_copy: Path) -> None:
    write_sidecar(model_copy, format="something-else/9")
    with pytest.raises(ModelError, match="format 'something-else/9'"):
        classifier(model_copy)
    meta = sidecar(model_copy)
    del meta["labels"]
    model_copy.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="missing labels"):
        classifier(model_copy)


def test_default_model_path_lists_where_it_looked(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    places = [tmp_path / "opt" / "m.tflite", tmp_path / "package" / "m.tflite"]
    monkeypatch.setattr(edge.model_contract, "default_model_paths", lambda: places)
    with pytest.raises(ModelError, match=r"looked in .*opt/m\.tflite, .*package/m\.tflite"):
        classifier(None)  # type: ignore[arg-type]
    places[1].parent.mkdir()
    places[1].write_bytes(b"x")
    assert resolve_model_path(None) == places[1]
    places[0].parent.mkdir()
    places[0].write_bytes(b"x")
    assert resolve_model_path(None) == places[0]
    assert resolve_model_path(tmp_path / "mine.tflite") == tmp_path / "mine.tflite"


def test_the_pi_install_overrides_the_model_inside_the_package() -> None:
    installed, packaged = default_model_paths()
    assert installed == Path("/opt/emotion-edge/models/emotion-edge.tflite")
    assert packaged == asset_path("emotion-edge.tflite")
    assert load_contract(packaged).name == "emotion-edge-cnn"  # with its sidecar beside it


def test_calibration_from_the_sidecar_is_applied_per_averaging(model_copy: Path,
                                                               astronaut: np.ndarray) -> None:
    frame = frame_of(astronaut)
    plain = classifier(model_copy, averaging="flip").classify(frame, FACE)
    loser = min(plain.scores, key=lambda label: plain.scores[label])
    # a bias that only `flip` carries, large enough to make the least likely label win
    write_sidecar(model_copy, calibration={"by_averaging": {
        "flip": {"temperature": 2.0, "log_bias": {loser: 20.0}},
        "none": {"temperature": 1.0, "log_bias": {}}}})
    flipped = classifier(model_copy, averaging="flip").classify(frame, FACE)
    assert flipped.label == loser and sum(flipped.scores.values()) == pytest.approx(1.0)
    single = classifier(model_copy).classify(frame, FACE)  # averaging none: no bias
    assert single.label != loser


def test_an_averaging_named_per_call_replaces_the_classifiers_own(
        model_copy: Path, astronaut: np.ndarray) -> None:
    write_sidecar(model_copy, averaging={**sidecar(model_copy)["averaging"],
                                         "default": "crops", "continuous": "none"})
    clf = TfliteEmotionClassifier(ClassifierConfig(model_path=model_copy))
    assert clf.averaging == "crops"
    assert clf.averagings == {"default": "crops", "continuous": "none"}
    frame = frame_of(astronaut)
    one_view = TfliteEmotionClassifier(ClassifierConfig(model_path=model_copy, averaging="none"))
    assert clf.classify(frame, FACE, averaging="none").scores == \
        one_view.classify(frame, FACE).scores
    assert clf.classify(frame, FACE).scores != one_view.classify(frame, FACE).scores


def test_a_bad_calibration_block_is_a_model_error(model_copy: Path) -> None:
    write_sidecar(model_copy, calibration={"by_averaging": {"flip": {"temperature": -1}}})
    with pytest.raises(ModelError, match="temperature"):
        classifier(model_copy)
