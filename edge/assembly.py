"""`open_pipeline`: the one place a pipeline is put together.

The daemon (`edge.app`), every CLI command, `check-config` and the benchmarks open their
parts here, so each runs what the daemon runs: the camera `settings.source` names (reopened
when it goes away), the detector and the classifier the settings name. A command that
changes a part (a model path, `--no-detect`, a thread count) changes the settings it passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from edge.config import Settings
from edge.pipeline import Pipeline
from edge.ports import EmotionClassifier, FaceDetector, FrameSource

Warn = Callable[[str], None]


@contextmanager
def open_pipeline(settings: Settings, *, source: FrameSource | None = None,
                  detector: FaceDetector | None = None,
                  classifier: EmotionClassifier | None = None,
                  warn: Warn | None = None) -> Iterator[Pipeline]:
    """Open the source, the detector and the classifier, in that order, and yield the
    pipeline over them; on the way out close them in reverse order. A part given is used
    instead of the one the settings name: it is taken over first, so it is closed last,
    and also when opening another part fails. A detector's fallback (kind = auto) goes to
    `warn` (default: one WARNING log line). EdgeError subclasses say what to fix."""
    with ExitStack() as stack:
        for part in (source, detector, classifier):
            if part is not None:
                stack.enter_context(part)
        if source is None:
            source = stack.enter_context(_open_source(settings))
        if detector is None:
            detector = stack.enter_context(_open_detector(settings, warn))
        if classifier is None:
            classifier = stack.enter_context(_open_classifier(settings))
        yield Pipeline(source, detector, classifier, settings.device_id)


def _open_source(settings: Settings) -> FrameSource:
    from edge.sources import open_source

    return open_source(settings.source)


def part_checks(settings: Settings,
                warn: Warn | None = None) -> list[tuple[str, Callable[[], object]]]:
    """`check-config`'s checks of the pipeline parts, by role: the camera's checks that hold
    no device (opening it would hold it), then the detector and the classifier opened as
    `open_pipeline` opens them and closed at once. Each check raises EdgeError on its own,
    so every bad part is reported."""
    from edge.sources import check_source

    return [("source", lambda: check_source(settings.source)),
            ("detector", lambda: _open_detector(settings, warn).close()),
            ("classifier", lambda: _open_classifier(settings).close())]


def _open_detector(settings: Settings, warn: Warn | None) -> FaceDetector:
    from edge.detect import open_detector

    return open_detector(settings.detector, warn)


def _open_classifier(settings: Settings) -> EmotionClassifier:
    from edge.classify import open_classifier

    return open_classifier(settings.classifier)
