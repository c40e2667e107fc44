"""`emotion-edge` commands, run through `main(argv)` on real files and the real tiny model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytest

import edge
from edge.cli import main
from edge.errors import ModelError

LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
_SCORE = {"type": "number", "minimum": 0, "maximum": 1}
_MS = {"type": "number", "minimum": 0}
KEYPOINTS = ["right_eye", "left_eye", "nose", "mouth_right", "mouth_left"]
_POINT = {"type": "array", "items": {"type": "integer", "minimum": 0},
          "minItems": 2, "maxItems": 2}
RESULT_SCHEMA = {  # the public result contract of issue 4, as JSON Schema
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "request_id", "device", "trigger", "timestamp", "emotion",
                 "confidence", "faces", "latency_ms", "model", "error", "time_synced"],
    # a capture that failed has no stage timings
    "if": {"properties": {"error": {"type": "null"}}},
    "then": {"properties": {"latency_ms": {
        "required": ["capture", "detect", "classify", "total"]}}},
    "properties": {
        "id": {"type": "string", "minLength": 8},
        "request_id": {"type": ["string", "null"]},
        "device": {"type": "string", "minLength": 1},
        "trigger": {"enum": ["button", "mqtt", "interval", "continuous", "cli"]},
        "timestamp": {"type": "string",
                      "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]00:00)$"},
        "emotion": {"enum": [*LABELS, None]},
        "confidence": {"oneOf": [_SCORE, {"type": "null"}]},
        "faces": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["box", "emotion", "confidence", "scores"],
            "properties": {
                "box": {"type": "array", "items": {"type": "integer", "minimum": 0},
                        "minItems": 4, "maxItems": 4},
                "emotion": {"enum": LABELS},
                "confidence": _SCORE,
                "scores": {"type": "object", "required": LABELS, "additionalProperties": False,
                           "properties": {label: _SCORE for label in LABELS}},
                "keypoints": {  # optional: only detectors with landmarks (YuNet) give them
                    "type": "object", "additionalProperties": False, "required": KEYPOINTS,
                    "properties": {name: _POINT for name in KEYPOINTS}},
                # continuous mode only: the face's person, random per visit
                "track_id": {"type": "string", "pattern": "^[0-9a-f]{12}$"}}}},
        "latency_ms": {"type": "object", "additionalProperties": False,
                       "properties": {k: _MS for k in ("capture", "detect", "classify", "total")}},
        "model": {"type": "string", "minLength": 1},
        "error": {"oneOf": [{"type": "null"}, {
            "type": "object", "additionalProperties": False, "required": ["kind", "reason"],
            "properties": {"kind": {"enum": ["camera", "pipeline", "internal", "busy",
                                             "paused"]},
                           "reason": {"type": "string", "minLength": 1}}}]},
        "time_synced": {"type": ["boolean", "null"]},
        "source": {"type": "string", "minLength": 1},  # CLI results only
    },
}


@pytest.fixture
def photos(tmp_path: Path, astronaut_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(astronaut_path.read_bytes())
    cv2.imwrite(str(folder / "b.png"), np.full((240, 320, 3), 128, np.uint8))
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_detect_json_lines_follow_the_result_schema(
        capsys: pytest.CaptureFixture[str], tiny_model: Path, photos: Path,
        astronaut_path: Path) -> None:
    code, out, err = run(capsys, "detect", str(astronaut_path), str(photos),
                         "--model", str(tiny_model), "--json")
    docs = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(docs) == 3, err
    for doc in docs:
        jsonschema.validate(doc, RESULT_SCHEMA)
    assert [len(d["faces"]) for d in docs] == [1, 1, 0]
    assert docs[0]["trigger"] == "cli" and docs[2]["emotion"] is None
    assert [d["source"] for d in docs] == [str(astronaut_path), str(photos / "a.jpg"),
                                           str(photos / "b.png")]


def test_the_schema_rejects_a_broken_result() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"id": "x"}, RESULT_SCHEMA)


def test_keypoints_are_in_the_schema_for_yunet_and_absent_for_haar(
        capsys: pytest.CaptureFixture[str], tiny_model: Path, astronaut_path: Path,
        tmp_path: Path) -> None:
    docs = {}
    for kind in ("yunet", "haar"):
        config = write_config(tmp_path, f'[detector]\nkind = "{kind}"\n')
        code, out, err = run(capsys, "detect", str(astronaut_path), "--model", str(tiny_model),
                             "--json", "--config", str(config))
        assert code == 0, err
        docs[kind] = json.loads(out)
        jsonschema.validate(docs[kind], RESULT_SCHEMA)
    [face] = docs["yunet"]["faces"]
    x, y, w, h = face["box"]
    eyes = face["keypoints"]["right_eye"], face["keypoints"]["left_eye"]
    assert all(x <= px <= x + w and y <= py <= y + h for px, py in face["keypoints"].values())
    assert eyes[0][0] < eyes[1][0]  # the person's right eye is on the image's left
    assert "keypoints" not in docs["haar"]["faces"][0]
    del face["keypoints"]["nose"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(docs["yunet"], RESULT_SCHEMA)


def test_unreadable_files_are_reported_skipped_and_fail_the_run(
        capsys: pytest.CaptureFixture[str], tiny_model: Path, photos: Path) -> None:
    (photos / "c.jpg").write_bytes(b"not a jpeg")
    code, out, err = run(capsys, "detect", str(photos), str(photos / "absent.png"),
                         "--model", str(tiny_model))
    assert code == 1
    assert "c.jpg" in err and "absent.png" in err
    assert "a.jpg: 1 face(s)" in out and "b.png: 0 face(s)" in out


def test_no_detect_classifies_the_whole_image(capsys: pytest.CaptureFixture[str],
                                              tiny_model: Path, astronaut_path: Path) -> None:
    code, out, _ = run(capsys, "detect", str(astronaut_path), "--model", str(tiny_model),
                       "--no-detect", "--json")
    assert code == 0 and json.loads(out)["faces"][0]["box"] == [0, 0, 512, 512]


def test_a_user_error_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str],
                                             astronaut_path: Path, tmp_path: Path) -> None:
    code, out, err = run(capsys, "detect", str(astronaut_path),
                         "--model", str(tmp_path / "absent.tflite"))
    assert code == 1 and out == ""
    assert err.startswith("emotion-edge: error: model file not found") and err.count("\n") == 1


def test_debug_shows_the_traceback(astronaut_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        main(["--debug", "detect", str(astronaut_path), "--model", str(tmp_path / "x.tflite")])


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0 and edge.__version__ in capsys.readouterr().out


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_check_config_ok(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                         tiny_model: Path) -> None:
    path = write_config(tmp_path,
                        f'device_id = "pi-1"\n[classifier]\nmodel_path = "{tiny_model}"\n')
    code, out, _ = run(capsys, "check-config", "--config", str(path))
    assert code == 0 and out.strip().endswith(": OK")


def test_check_config_one_line_per_problem(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOEDGE_MQTT__PORT", "0")
    path = write_config(tmp_path, 'device_id = "pi-1"\n[mqtt]\nhots = "broker"\n')
    code, out, _ = run(capsys, "check-config", "--config", str(path))
    lines = out.splitlines()
    assert code == 1 and len(lines) == 2
    assert any(line.startswith("mqtt.hots") for line in lines)
    assert any(line.startswith("mqtt.port = '0'") for line in lines)


def test_check_config_prints_each_old_name_and_passes(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTION_EDGE_DEVICE_ID", "pi-2")
    path = write_config(tmp_path, f'[classifier]\nmodel_path = "{tiny_model}"\ntta = "flip"\n')
    code, out, _ = run(capsys, "check-config", "--config", str(path))
    assert code == 0 and out.splitlines() == [
        "deprecated: classifier.tta: write classifier.averaging instead",
        "deprecated: EMOTION_EDGE_DEVICE_ID: write EMOEDGE_DEVICE_ID instead",
        f"{path}: OK"]


def test_check_config_fails_on_an_old_name_beside_its_new_one(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_config(tmp_path, '[trigger]\nqueue_size = 4\n[worker]\nqueue_size = 5\n')
    code, _, err = run(capsys, "check-config", "--config", str(path))
    assert code == 1 and err == ("emotion-edge: error: trigger.queue_size and worker.queue_size "
                                 "are both set: they are the same setting; keep "
                                 "worker.queue_size only\n")


def test_check_config_loads_the_model_and_cascade(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    path = write_config(tmp_path, f'device_id = "pi-1"\n[classifier]\nmodel_path = '
                                  f'"{tmp_path}/absent.tflite"\n[detector]\n'
                                  f'cascade_path = "{tmp_path}/absent.xml"\n')
    code, out, _ = run(capsys, "check-config", "--config", str(path))
    assert code == 1
    assert out.splitlines() == [
        f"detector: Haar cascade file not found: {tmp_path}/absent.xml; set "
        "detector.cascade_path to an OpenCV haarcascade_frontalface_alt2.xml",
        f"classifier: model file not found: {tmp_path}/absent.tflite (check "
        "classifier.model_path)"]


def test_check_config_warns_once_when_yunet_falls_back(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: Path) -> None:
    path = write_config(tmp_path, f'[detector]\nmodel_path = "{tmp_path}/absent.onnx"\n'
                                  f'[classifier]\nmodel_path = "{tiny_model}"\n')
    code, out, err = run(capsys, "check-config", "--config", str(path))
    [warning, ok] = out.splitlines()
    assert code == 0 and ok.endswith(": OK") and err == ""
    assert warning.startswith("detector: WARNING: YuNet face detector unavailable, using the "
                              "Haar cascade") and f"not found: {tmp_path}/absent.onnx" in warning


def test_check_config_fails_on_an_explicit_yunet_that_cannot_load(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: Path) -> None:
    path = write_config(tmp_path, f'[detector]\nkind = "yunet"\n'
                                  f'model_path = "{tmp_path}/absent.onnx"\n'
                                  f'[classifier]\nmodel_path = "{tiny_model}"\n')
    code, out, _ = run(capsys, "check-config", "--config", str(path))
    assert code == 1
    assert out.splitlines() == [f"detector: YuNet model not found: {tmp_path}/absent.onnx; "
                                "reinstall emotion-edge or set detector.model_path to a YuNet "
                                ".onnx with its sidecar"]


def test_check_config_bad_toml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check-config", "--config", str(write_config(tmp_path, "[x")))
    assert code == 1 and "not valid TOML" in err


def test_bench_reports_every_stage(capsys: pytest.CaptureFixture[str], tiny_model: Path) -> None:
    code, out, _ = run(capsys, "bench", "--frames", "3", "--model", str(tiny_model))
    assert code == 0 and "3 frames of 640x480" in out and "1.00 faces/frame" in out
    for stage in ("capture", "detect", "classify", "total"):
        assert f"{stage}" in out
    assert "p90" in out and "frames/s" in out and "peak RSS" in out


def test_run_hands_the_settings_to_the_daemon(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    import edge.app

    seen = []
    monkeypatch.setattr(edge.app, "run_daemon", lambda settings: seen.append(settings) or 3)
    path = write_config(tmp_path, 'device_id = "pi-9"\n')
    assert main(["run", "--config", str(path)]) == 3
    assert seen[0].device_id == "pi-9"


def test_no_command_imports_tensorflow(tiny_model: Path, astronaut_path: Path,
                                       tmp_path: Path) -> None:
    config = write_config(tmp_path, f'[classifier]\nmodel_path = "{tiny_model}"\n')
    script = f"""
import sys, contextlib, io
import edge, edge.cli, edge.pipeline, edge.sources.images, edge.sources.opencv
import edge.sources.picamera, edge.detect.haar, edge.detect.yunet, edge.classify.tflite
with contextlib.redirect_stdout(io.StringIO()):
    assert edge.cli.main(["detect", {str(astronaut_path)!r}, "--model", {str(tiny_model)!r},
                          "--json"]) == 0
    assert edge.cli.main(["check-config", "--config", {str(config)!r}]) == 0
    assert edge.cli.main(["bench", "--frames", "2", "--model", {str(tiny_model)!r}]) == 0
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "picamera2"))
print(heavy)
"""
    env = {"PATH": "/usr/bin:/bin", "EMOEDGE_DEVICE_ID": "ci"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, env=env, cwd=Path(edge.__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("command", [
    ["detect", "{photo}", "--json", "--model", "{model}"],
    ["check-config", "--config", "{config}"],
    ["bench", "--frames", "2", "--model", "{model}"],
], ids=lambda argv: argv[0])
def test_no_command_prints_the_litert_banner(command: list[str], tiny_model: Path,
                                             astronaut_path: Path, tmp_path: Path) -> None:
    """LiteRT writes `INFO: Created TensorFlow Lite XNNPACK delegate for CPU.` to fd 2 from
    C++; a user, the installer and the journal must not see it."""
    config = write_config(tmp_path, f'[classifier]\nmodel_path = "{tiny_model}"\n')
    argv = [arg.format(photo=astronaut_path, model=tiny_model, config=config)
            for arg in command]
    done = subprocess.run([str(Path(sys.executable).parent / "emotion-edge"), *argv],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout and done.stderr == ""


def check_config_lines(capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: Path,
                       extra: str) -> tuple[int, list[str]]:
    """check-config on a config that is valid except for what `extra` adds."""
    text = f'device_id = "pi-1"\n[classifier]\nmodel_path = "{tiny_model}"\n{extra}'
    code, out, _ = run(capsys, "check-config", "--config", str(write_config(tmp_path, text)))
    return code, out.splitlines()


@pytest.mark.parametrize(("extra", "expected"), [
    ('[source]\nkind = "images"\npath = "{tmp}/no-such-folder"\n',
     "source: image path not found: {tmp}/no-such-folder"),
    ('[source]\nkind = "images"\npath = "{tmp}/empty"\n',
     "source: no images (.jpg, .png, ...) in {tmp}/empty"),
    ('[source]\nkind = "opencv"\ndevice = "/dev/video97"\n',
     "source: /dev/video97: not found; check the cable"),
    ('[source]\nkind = "opencv"\ndevice = 97\n', "source: camera 97 (/dev/video97): not found"),
    ('[source]\nkind = "opencv"\ndevice = "{tmp}/clip.avi"\n',
     "source: {tmp}/clip.avi: not found; check source.device"),
    ('[mqtt]\npassword_file = "{tmp}/no-password"\n',
     "mqtt: cannot read the MQTT password file {tmp}/no-password: No such file or directory; "
     "check mqtt.password_file"),
    ('[mqtt.tls]\nis_enabled = true\nca_file = "{tmp}/no-ca.crt"\n',
     "mqtt: TLS file {tmp}/no-ca.crt not found; check mqtt.tls.*_file"),
    ('[mqtt.tls]\nis_enabled = true\nca_file = "{tmp}/garbage.crt"\n',
     "mqtt: unusable TLS files ({tmp}/garbage.crt)"),
])
def test_check_config_runs_every_start_up_check_that_holds_no_device(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: Path,
        extra: str, expected: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "garbage.crt").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
    code, lines = check_config_lines(capsys, tmp_path, tiny_model,
                                     extra.format(tmp=tmp_path))
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith(expected.format(tmp=tmp_path))


def test_check_config_passes_what_run_can_start(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: Path,
        astronaut_path: Path) -> None:
    from tests.fixtures.broker import make_certificates

    ca = make_certificates(tmp_path / "certs").ca
    password = tmp_path / "password"
    password.write_text("s3cret\n")
    extra = (f'[source]\nkind = "images"\npath = "{astronaut_path}"\n[mqtt]\n'
             f'password_file = "{password}"\n[mqtt.tls]\nis_enabled = true\n'
             f'ca_file = "{ca}"\n')
    code, lines = check_config_lines(capsys, tmp_path, tiny_model, extra)
    assert code == 0 and lines[-1].endswith(": OK"), lines


def test_check_config_names_a_spool_path_it_cannot_create(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    path = write_config(tmp_path, f'device_id = "pi-1"\n[classifier]\nmodel_path = '
                                  f'"{tiny_model}"\n[mqtt.spool]\n'
                                  f'path = "{tmp_path}/a-file/spool.sqlite"\n')
    code, out, _ = run(capsys, "check-config", "--config", str(path))
    assert code == 1
    assert out.splitlines() == [
        f"spool: cannot open the result spool {tmp_path}/a-file/spool.sqlite: {tmp_path}/a-file "
        "is not a directory; set mqtt.spool.path to a writable file or run with StateDirectory="]
    assert not list(tmp_path.glob("**/spool.sqlite*"))
