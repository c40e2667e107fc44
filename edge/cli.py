"""`emotion-edge`: classify images, check a config, benchmark the pipeline, run the daemon.

A user error (EdgeError) prints one line, `emotion-edge: error: ...`, and exits 1;
`-v/--debug` shows the traceback instead. No command imports TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import edge
from edge.assets import asset_path
from edge.config import Settings, config_problems, load_settings, read_config
from edge.errors import EdgeError, SourceError
from edge.ports import Result, TriggerEvent

log = logging.getLogger(__name__)

BUNDLED_PHOTO = "astronaut.jpg"  # in edge/assets: `bench` works from a plain pip install


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emotion-edge", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"emotion-edge {edge.__version__}")
    p.add_argument("-v", "--debug", action="store_true", help="debug logs and tracebacks")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config_help = "TOML config file (EMOEDGE_* environment variables apply on top)"

    d = sub.add_parser("detect", help="classify the faces in image files or folders")
    d.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="image or folder")
    d.add_argument("--model", type=Path, help=".tflite with its .json sidecar beside it")
    d.add_argument("--no-detect", action="store_true",
                   help="treat each whole image as one face (pre-cropped faces)")
    d.add_argument("--json", action="store_true", help="one result JSON object per line")
    d.add_argument("--config", type=Path, help=config_help)

    c = sub.add_parser("check-config", help="list every problem in the configuration")
    c.add_argument("--config", type=Path, help=config_help)

    b = sub.add_parser("bench", help="time each pipeline stage on still images")
    b.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="images or folders (default: the bundled astronaut photo)")
    b.add_argument("--frames", type=int, default=200, help="frames to time (default 200)")
    b.add_argument("--model", type=Path, help=".tflite with its .json sidecar beside it")
    b.add_argument("--size", default="640x480",
                   help="letterbox every image to WxH, or 'native' (default 640x480)")
    b.add_argument("--threads", type=int, default=1, help="OpenCV and LiteRT threads")
    b.add_argument("--config", type=Path, help=config_help)

    r = sub.add_parser("run", help="run the daemon (triggers, camera, MQTT)")
    r.add_argument("--config", type=Path, help=config_help)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `emotion-edge` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    is_daemon = args.command == "run"
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if is_daemon else logging.WARNING,
        stream=sys.stdout if is_daemon else sys.stderr,
        format="%(levelname)s %(name)s: %(message)s")
    commands = {"detect": _detect, "check-config": _check_config, "bench": _bench, "run": _run}
    try:
        return commands[args.command](args)
    except EdgeError as e:
        if args.debug:
            raise
        print(f"emotion-edge: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _overridden(settings: Settings, *, model: Path | None = None, is_detecting: bool = True,
                threads: int | None = None) -> Settings:
    """The settings with what the command line changes: the model, whole-frame faces
    (`--no-detect`), the classifier's threads."""
    from edge.detect.config import WholeFrameConfig

    classifier: dict[str, object] = {}
    if model is not None:
        classifier["model_path"] = model
    if threads is not None:
        classifier["num_threads"] = threads
    update: dict[str, object] = {"classifier": settings.classifier.model_copy(update=classifier)}
    if not is_detecting:
        update["detector"] = WholeFrameConfig()
    return settings.model_copy(update=update)


def _expand(paths: Sequence[Path]) -> tuple[list[Path], int]:
    """Image files from files and folders; reports and counts paths that give none."""
    from edge.sources.images import list_images

    files: list[Path] = []
    failed = 0
    for path in paths:
        try:
            found = list_images(path)
        except SourceError as e:
            found = []
            print(f"emotion-edge: {e}", file=sys.stderr)
        else:
            if not found:
                print(f"emotion-edge: no images in {path}", file=sys.stderr)
        failed += not found
        files += found
    return files, failed


def _detect(args: argparse.Namespace) -> int:
    from edge.assembly import open_pipeline
    from edge.errors import SourceExhausted
    from edge.sources.images import ImageFolderSource

    settings = _overridden(load_settings(args.config), model=args.model,
                           is_detecting=not args.no_detect)
    files, failed = _expand(args.paths)
    if not files:
        return 1
    with open_pipeline(settings, source=ImageFolderSource(files)) as pipeline:
        while True:
            try:
                result, frame = pipeline.handle(TriggerEvent("cli", at=time.monotonic()))
            except SourceExhausted:
                break
            except SourceError as e:  # an unreadable image: say so, go on with the next
                print(f"emotion-edge: {e}", file=sys.stderr)
                failed += 1
                continue
            print(_as_json(result, frame.source) if args.json
                  else _describe(frame.source, result))
    return 1 if failed else 0


def _as_json(result: Result, source: str) -> str:
    """The result contract plus `source`, the file it came from (CLI only: the daemon's
    results come from the camera)."""
    return json.dumps({**result.to_json_dict(), "source": source})


def _describe(source: str, result: Result) -> str:
    lines = [f"{source}: {len(result.faces)} face(s)"]
    for box, emotion in result.faces:
        lines.append(f"  [{box.x}, {box.y}, {box.w}, {box.h}] {emotion.label} "
                     f"{emotion.confidence:.2f}")
    return "\n".join(lines)


def _check_config(args: argparse.Namespace) -> int:
    data, deprecated = read_config(args.config, os.environ)
    for line in deprecated:
        print(line)
    problems = config_problems(data)
    if not problems:
        from edge.app import startup_problems

        def warn(message: str) -> None:  # a detector fallback is a warning, not a problem
            print(f"detector: WARNING: {message}")

        problems = startup_problems(Settings.model_validate(data), os.environ, warn)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{args.config or 'default configuration'}: OK")
    return 1 if problems else 0


def _bench(args: argparse.Namespace) -> int:
    import cv2

    from edge.assembly import open_pipeline
    from edge.sources.images import FrameListSource

    cv2.setNumThreads(args.threads)
    settings = _overridden(load_settings(args.config), model=args.model, threads=args.threads)
    images = _bench_images(args.paths, args.size)
    with open_pipeline(settings, source=FrameListSource(images)) as pipeline:
        event = TriggerEvent("cli")
        for _ in range(min(5, args.frames)):
            pipeline.handle(event)  # warm caches and the interpreter
        timings: dict[str, list[float]] = {}
        n_faces = 0
        start = time.perf_counter()
        for _ in range(args.frames):
            result, _ = pipeline.handle(event)
            n_faces += len(result.faces)
            for stage, ms in result.latency_ms.items():
                timings.setdefault(stage, []).append(ms)
        wall_s = time.perf_counter() - start
    _report(args, images, timings, wall_s, n_faces, pipeline.classifier.model_name)
    return 0


def _bench_images(paths: Sequence[Path], size: str) -> list[np.ndarray]:
    import cv2

    from edge.sources.images import letterbox

    photo = asset_path(BUNDLED_PHOTO)
    if not paths and not photo.is_file():
        raise SourceError(f"no bundled photo at {photo}; pass image PATHs to bench")
    files, failed = _expand(paths or [photo])
    images = [image for image in (cv2.imread(str(f)) for f in files) if image is not None]
    if failed or len(images) != len(files) or not images:
        raise SourceError("bench needs readable images; fix or drop the paths reported above")
    if size == "native":
        return images
    try:
        width, height = (int(n) for n in size.lower().split("x"))
    except ValueError as e:
        raise SourceError(f"--size {size!r}: expected WxH such as 640x480, or native") from e
    return [letterbox(image, width, height).image for image in images]


def _report(args: argparse.Namespace, images: list[np.ndarray], timings: dict[str, list[float]],
            wall_s: float, n_faces: int, model: str) -> None:
    height, width = images[0].shape[:2]
    print(f"{args.frames} frames of {width}x{height}, {len(images)} image(s), "
          f"{n_faces / max(1, args.frames):.2f} faces/frame, {args.threads} thread(s), {model}")
    for stage, values in timings.items():
        median, p90 = np.percentile(values, [50, 90])
        print(f"  {stage:<9} median {median:7.2f} ms   p90 {p90:7.2f} ms")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"  {args.frames / wall_s:.1f} frames/s, peak RSS {peak_mb:.0f} MB")


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    logging.getLogger().setLevel(logging.DEBUG if args.debug else settings.log_level)
    from edge.app import run_daemon  # the daemon and its MQTT/GPIO imports load only here

    return run_daemon(settings)
