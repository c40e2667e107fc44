"""How parts end: `Resource` and `OwnedThread` alone, then the contract every part kind keeps
(opened for real here): `with` gives the part back and closes it, `closed` flips, and a
second `close()` does nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from edge.lifetime import OwnedThread, Resource


class Counted(Resource):
    def __init__(self, error: Exception | None = None) -> None:
        self.releases = 0
        self._error = error

    def _close(self) -> None:
        self.releases += 1
        if self._error is not None:
            raise self._error


def test_close_releases_once_and_with_closes() -> None:
    with Counted() as part:
        assert not part.closed
    assert part.closed and part.releases == 1
    part.close()
    assert part.releases == 1


def test_a_release_that_fails_is_not_tried_again() -> None:
    part = Counted(OSError("device gone"))
    with pytest.raises(OSError, match="device gone"):
        part.close()
    part.close()
    assert part.closed and part.releases == 1


def test_closing_from_many_threads_releases_once() -> None:
    part = Counted()
    start = threading.Barrier(8)

    def close() -> None:
        start.wait()
        part.close()

    threads = [threading.Thread(target=close) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert part.releases == 1


def test_an_owned_thread_stops_when_asked() -> None:
    ticks = threading.Semaphore(0)

    def loop() -> None:
        while not thread.stopping.wait(0.01):
            ticks.release()

    thread = OwnedThread(loop, "ticker")
    assert thread.join(0)  # never started: nothing to wait for
    thread.start()
    assert ticks.acquire(timeout=5) and thread.is_alive
    assert thread.stop(5) and not thread.is_alive


def test_a_stuck_thread_is_given_up_on_after_the_timeout() -> None:
    release = threading.Event()
    thread = OwnedThread(lambda: release.wait(10) and None, "stuck")
    thread.start()
    assert not thread.stop(0.05)  # stuck in a "driver": stop returns, the thread lives on
    assert thread.stopping.is_set() and thread.is_alive
    release.set()
    assert thread.join(5)


def test_an_owned_thread_can_use_its_owners_event() -> None:
    shutdown = threading.Event()
    thread = OwnedThread(lambda: shutdown.wait(10) and None, "worker", stopping=shutdown)
    thread.start()
    assert thread.stop(5) and shutdown.is_set()


# Every part kind, opened for real. PicameraSource needs a Pi (tests/hardware); it derives
# from Resource like every other backend, which test_every_backend_is_a_resource checks.
Opener = Callable[[Path, dict[str, Any]], AbstractContextManager[Any]]


def _images(tmp: Path, fx: dict[str, Any]) -> Any:
    from edge.sources.images import ImageFolderSource

    return ImageFolderSource(fx["image_dir"])


def _frame_list(tmp: Path, fx: dict[str, Any]) -> Any:
    import numpy as np

    from edge.sources.images import FrameListSource

    return FrameListSource([np.zeros((4, 4, 3), np.uint8)])


def _opencv(tmp: Path, fx: dict[str, Any]) -> Any:
    from edge.sources.config import OpenCvConfig
    from edge.sources.opencv import OpenCvSource

    return OpenCvSource(OpenCvConfig(device=str(fx["write_video"](2))))


def _reopening(tmp: Path, fx: dict[str, Any]) -> Any:
    from edge.config import Settings
    from edge.sources import open_source

    return open_source(Settings.model_validate(
        {"source": {"kind": "images", "path": str(fx["image_dir"])}}).source)


def _detector(kind: str) -> Callable[[Path, dict[str, Any]], Any]:
    def open_it(tmp: Path, fx: dict[str, Any]) -> Any:
        from edge.config import Settings
        from edge.detect import open_detector

        return open_detector(Settings.model_validate({"detector": {"kind": kind}}).detector)

    return open_it


def _classifier(tmp: Path, fx: dict[str, Any]) -> Any:
    from edge.classify import open_classifier
    from edge.classify.config import ClassifierConfig

    return open_classifier(ClassifierConfig(model_path=fx["tiny_model"]))


def _connection(tmp: Path) -> Any:
    from edge.mqtt import open_connection
    from edge.mqtt.config import MqttConfig

    return open_connection(MqttConfig(), "dev", {})


def _publisher(tmp: Path, fx: dict[str, Any]) -> Any:
    from edge.mqtt import open_publisher
    from edge.mqtt.config import MqttConfig

    cfg = MqttConfig.model_validate({"spool": {"path": str(tmp / "spool.sqlite")}})
    publisher = open_publisher(cfg, _connection(tmp), {})
    publisher.start()
    return publisher


def _discovery(tmp: Path, fx: dict[str, Any]) -> Any:
    from edge.mqtt.config import DiscoveryConfig
    from edge.mqtt.discovery import HomeAssistantDiscovery
    from tests.fakes import LABELS

    return HomeAssistantDiscovery(DiscoveryConfig(), _connection(tmp), LABELS)


def _button(tmp: Path, fx: dict[str, Any]) -> Any:
    from edge.triggers.button import ButtonTrigger
    from edge.triggers.config import ButtonConfig

    return ButtonTrigger(ButtonConfig(pin=17, led_pin=27), pin_factory=MockFactory())


def _mqtt_trigger(tmp: Path, fx: dict[str, Any]) -> Any:
    from edge.triggers.mqtt import MqttTrigger

    trigger = MqttTrigger(_connection(tmp))
    trigger.start(lambda event: None)
    return trigger


def _interval(tmp: Path, fx: dict[str, Any]) -> Any:
    from edge.triggers.interval import IntervalTrigger

    trigger = IntervalTrigger(60)
    trigger.start(lambda event: None)
    return trigger


def _worker(tmp: Path, fx: dict[str, Any]) -> Any:
    from edge.notify import Notifier
    from edge.pipeline import Pipeline
    from edge.worker import Worker
    from tests.fakes import CountingSource, FixedClassifier, FixedDetector, ListPublisher

    pipeline = Pipeline(CountingSource(), FixedDetector(), FixedClassifier(), "dev")
    worker = Worker(pipeline, ListPublisher(), shutdown=threading.Event(),
                    notifier=Notifier({}), queue_size=2, min_interval_s=0)
    worker.start()
    return worker


def _kinds() -> dict[str, tuple[Opener, tuple[str, ...]]]:
    """Part kind -> how to open it, and the fixtures that needs."""
    from edge.detect.config import DetectorConfig
    from edge.registry import kinds_of

    return {
        "images source": (_images, ("image_dir",)),
        "frame list source": (_frame_list, ()),
        "opencv source": (_opencv, ("write_video",)),
        "reopening camera": (_reopening, ("image_dir",)),
        **{f"{kind} detector": (_detector(kind), ()) for kind in kinds_of(DetectorConfig)},
        "tflite classifier": (_classifier, ("tiny_model",)),
        "mqtt connection": (lambda tmp, fx: _connection(tmp), ()),
        "mqtt publisher": (_publisher, ()),
        "home assistant discovery": (_discovery, ()),
        "button trigger": (_button, ()),
        "mqtt trigger": (_mqtt_trigger, ()),
        "interval trigger": (_interval, ()),
        "worker": (_worker, ()),
    }


PARTS = _kinds()


@pytest.mark.parametrize("kind", PARTS)
def test_every_part_kind_closes_once_and_works_with_with(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    opener, needs = PARTS[kind]
    part = opener(tmp_path, {name: request.getfixturevalue(name) for name in needs})
    with part as entered:
        assert entered is part and not part.closed
    assert part.closed
    part.close()  # again: nothing happens, nothing raises
    assert part.closed


def test_every_backend_is_a_resource() -> None:
    from edge.classify.tflite import TfliteEmotionClassifier
    from edge.detect.haar import HaarFaceDetector
    from edge.detect.whole_frame import WholeFrameDetector
    from edge.detect.yunet import YunetFaceDetector
    from edge.mqtt.connection import MqttConnection
    from edge.mqtt.discovery import HomeAssistantDiscovery
    from edge.mqtt.publisher import MqttPublisher
    from edge.sources.images import FrameListSource, ImageFolderSource
    from edge.sources.opencv import OpenCvSource
    from edge.sources.picamera import PicameraSource
    from edge.sources.reopening import ReopeningSource
    from edge.triggers.button import ButtonTrigger
    from edge.triggers.interval import IntervalTrigger
    from edge.triggers.mqtt import MqttTrigger
    from edge.worker import Worker

    for cls in (ImageFolderSource, FrameListSource, OpenCvSource, PicameraSource,
                ReopeningSource, HaarFaceDetector, YunetFaceDetector, WholeFrameDetector,
                TfliteEmotionClassifier, MqttConnection, MqttPublisher, HomeAssistantDiscovery,
                ButtonTrigger, MqttTrigger, IntervalTrigger, Worker):
        assert issubclass(cls, Resource), cls
        assert cls.close is Resource.close, f"{cls.__name__} overrides close(): use _close()"
