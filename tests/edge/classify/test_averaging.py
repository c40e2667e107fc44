"""Test-time averaging: the views themselves, and the classifier averaging over them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge.classify.averaging import SHIFT_PX, invokes, views
from edge.classify.config import ClassifierConfig
from edge.classify.tflite import TfliteEmotionClassifier
from edge.errors import ModelError
from edge.model_contract import AVERAGINGS
from edge.ports import FaceBox
from tests.edge.conftest import ASTRONAUT_FACE, frame_of


def test_each_averaging_has_its_views() -> None:
    faces = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8)
    for averaging in AVERAGINGS:
        got = views(faces, averaging)
        assert len(got) == invokes(averaging)
        assert all(v.shape == faces.shape and v.dtype == faces.dtype for v in got)
    np.testing.assert_array_equal(views(faces, "none")[0], faces)
    np.testing.assert_array_equal(views(faces, "flip")[1], faces[:, :, ::-1])


def test_crops_are_the_face_and_mirror_shifted_with_the_border_repeated() -> None:
    faces = np.random.default_rng(0).integers(0, 255, (1, 12, 12), dtype=np.uint8)
    crops = views(faces, "crops")
    s = SHIFT_PX
    np.testing.assert_array_equal(crops[0], faces)
    np.testing.assert_array_equal(crops[5], faces[:, :, ::-1])
    moved_up = crops[1][0]  # dy = -s: row 0 shows row s, the last s rows repeat the bottom
    np.testing.assert_array_equal(moved_up[:12 - s], faces[0, s:])
    np.testing.assert_array_equal(moved_up[12 - s:], np.repeat(faces[0, -1:], s, axis=0))
    moved_right = crops[4][0]  # dx = +s: column s shows column 0
    np.testing.assert_array_equal(moved_right[:, s:], faces[0, :, :12 - s])
    assert len({v.tobytes() for v in crops}) == len(crops), "every view differs"


def test_views_keep_a_channel_axis() -> None:
    faces = np.zeros((1, 48, 48, 1), np.uint8)
    assert all(v.shape == faces.shape for v in views(faces, "crops"))


def test_an_unknown_averaging_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of"):
        views(np.zeros((1, 4, 4)), "tencrop")


def test_crops_scores_are_the_mean_over_the_ten_views(tiny_model: Path,
                                                      astronaut: np.ndarray) -> None:
    x, y = ASTRONAUT_FACE[:2]
    crop = np.ascontiguousarray(astronaut[y:y + 48, x:x + 48])  # 48x48: no resize involved
    box = FaceBox(0, 0, 48, 48)
    plain = TfliteEmotionClassifier(ClassifierConfig(model_path=tiny_model, averaging="none"))
    gray = plain.preprocess(crop, box)[..., 0]
    singles = [plain.classify(frame_of(v[0]), box).scores for v in views(gray[None], "crops")]
    averaged = TfliteEmotionClassifier(
        ClassifierConfig(model_path=tiny_model, averaging="crops")).classify(frame_of(crop), box)
    for label, score in averaged.scores.items():
        assert score == pytest.approx(np.mean([s[label] for s in singles]), abs=1e-6)


def _copy_with_averaging(model: Path, tmp_path: Path, averaging: object) -> Path:
    target = tmp_path / model.name
    shutil.copy(model, target)
    meta = json.loads(model.with_suffix(".json").read_text())
    meta["averaging"] = {**meta.get("averaging", {}), "default": averaging}
    target.with_suffix(".json").write_text(json.dumps(meta))
    return target


@pytest.mark.parametrize("averaging", AVERAGINGS)
def test_the_default_is_the_sidecars_averaging(tiny_model: Path, tmp_path: Path,
                                               averaging: str) -> None:
    model = _copy_with_averaging(tiny_model, tmp_path, averaging)
    assert TfliteEmotionClassifier(ClassifierConfig(model_path=model)).averaging == averaging


def test_the_configs_averaging_overrides_the_sidecar(tiny_model: Path, tmp_path: Path) -> None:
    model = _copy_with_averaging(tiny_model, tmp_path, "crops")
    chosen = TfliteEmotionClassifier(ClassifierConfig(model_path=model, averaging="flip"))
    assert chosen.averaging == "flip"


def test_a_sidecar_without_averaging_means_flip(tiny_model: Path, tmp_path: Path) -> None:
    target = tmp_path / tiny_model.name
    shutil.copy(tiny_model, target)
    meta = json.loads(tiny_model.with_suffix(".json").read_text())
    meta.pop("averaging", None)
    target.with_suffix(".json").write_text(json.dumps(meta))
    assert TfliteEmotionClassifier(ClassifierConfig(model_path=target)).averaging == "flip"


def test_an_unknown_sidecar_averaging_is_a_model_error(tiny_model: Path, tmp_path: Path) -> None:
    model = _copy_with_averaging(tiny_model, tmp_path, "tencrop")
    with pytest.raises(ModelError, match=r"averaging\.default"):
        TfliteEmotionClassifier(ClassifierConfig(model_path=model))
