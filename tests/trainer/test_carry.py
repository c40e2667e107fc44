"""`emotion-train carry`: a run folder goes into the committed folder and comes back whole,
never over a run that is further along."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from trainer.carry import BEST_IS_LAST, FILES, restore, save
from trainer.cli import main


@pytest.fixture(scope="module")
def best_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny trained model saved as the trainer saves its best epoch: with the optimizer's
    moments."""
    import numpy as np

    from trainer.model import ModelShape, build_model

    model = build_model(shape=ModelShape(blocks=((4, 1), (4, 1), (8, 1), (8, 1), (8, 1))))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    faces = np.random.default_rng(0).integers(0, 256, (8, 48, 48, 1), dtype=np.uint8)
    model.train_on_batch(faces, np.eye(7, dtype=np.float32)[np.arange(8) % 7])
    path = tmp_path_factory.mktemp("best") / "model.keras"
    model.save(path)
    return path


def _run(folder: Path, epoch: int, best_epoch: int, best: Path | None = None) -> Path:
    (folder / "checkpoint").mkdir(parents=True)
    for name in FILES:
        (folder / name).write_bytes(f"{name} at epoch {epoch}".encode())
    if best is not None:
        shutil.copyfile(best, folder / "model.keras")
    (folder / "checkpoint" / "state.json").write_text(json.dumps({"epoch": epoch,
                                                                  "best_epoch": best_epoch}))
    (folder / "report.md").write_text("not needed to resume")
    return folder


def test_a_saved_run_is_restored_whole(tmp_path: Path, best_model: Path) -> None:
    import keras
    import numpy as np

    run = _run(tmp_path / "runs" / "t1", epoch=41, best_epoch=30, best=best_model)
    assert save(run, tmp_path / "carried") == 41
    restored = restore(tmp_path / "carried", tmp_path / "next-window")
    assert restored == {"t1": 41}
    back = tmp_path / "next-window" / "t1"
    for name in set(FILES) - {"model.keras"}:
        assert (back / name).read_bytes() == (run / name).read_bytes()
    # the best epoch comes back with its weights, without the optimizer's moments
    assert (back / "model.keras").stat().st_size < best_model.stat().st_size
    for mine, theirs in zip(keras.models.load_model(back / "model.keras").get_weights(),
                            keras.models.load_model(best_model).get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert not (tmp_path / "carried" / "t1" / "report.md").exists()
    assert not list((tmp_path / "carried").rglob("*.partial"))


def test_a_best_epoch_that_is_the_last_is_carried_once(tmp_path: Path) -> None:
    carried = tmp_path / "carried"
    save(_run(tmp_path / "before" / "t1", epoch=8, best_epoch=8), carried)
    (carried / "t1" / "model.keras").write_bytes(b"a stale best model")
    run = _run(tmp_path / "runs" / "t1", epoch=9, best_epoch=9)
    (run / "model.keras").write_bytes((run / "checkpoint" / "last.keras").read_bytes())
    save(run, carried)
    assert not (carried / "t1" / "model.keras").exists()  # nor a stale one
    restore(carried, tmp_path / "next-window")
    restored = tmp_path / "next-window" / "t1"
    assert (restored / "model.keras").read_bytes() == (run / "model.keras").read_bytes()
    assert not (restored / BEST_IS_LAST).exists()


def test_restore_leaves_a_run_that_is_further_along(tmp_path: Path) -> None:
    save(_run(tmp_path / "old" / "t1", epoch=10, best_epoch=10), tmp_path / "carried")
    ahead = _run(tmp_path / "runs" / "t1", epoch=12, best_epoch=12)
    assert restore(tmp_path / "carried", tmp_path / "runs") == {}
    assert (ahead / "checkpoint" / "last.keras").read_bytes().endswith(b"epoch 12")


def test_saving_a_folder_without_a_checkpoint_is_a_user_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["carry", "save", str(tmp_path / "empty")]) == 1
    assert "no checkpoint/state.json" in capsys.readouterr().err



def test_carry_names_the_checkpoint_folder_the_trainer_writes() -> None:
    from trainer import carry, checkpoint

    assert carry.CHECKPOINT == checkpoint.CHECKPOINT
