"""Our side of the benchmark: the project's own pipeline parts, a loopback broker, the test
frame and MAC counting from a .tflite graph.

Nothing here re-implements the pipeline: it is opened by `edge.assembly.open_pipeline`, as
the daemon opens it, from settings that differ from the defaults only in the paths: frames
come from an `images` camera (decoded from the file on every read), faces from the default
detector, scores from the classifier, and results go out through `MqttPublisher` (spool,
then QoS 1) to a mosquitto started on a free 127.0.0.1 port.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from benchmarks.support.broker import Broker
from edge.assembly import open_pipeline
from edge.classify import open_classifier
from edge.classify.averaging import Averaging
from edge.classify.config import ClassifierConfig
from edge.config import Settings
from edge.mqtt import open_connection, open_publisher
from edge.mqtt.config import MqttConfig, SpoolConfig
from edge.mqtt.publisher import MqttPublisher
from edge.pipeline import Pipeline
from edge.ports import EmotionClassifier, FaceBox, Frame, Result, TriggerEvent
from edge.sources.config import ImagesConfig
from edge.sources.images import letterbox

FRAME_SIZE = (640, 480)  # width, height of the benchmark frame


def make_frame(photo: Path, out: Path) -> Path:
    """Write a 640x480 JPEG with the photo letterboxed into it, as `emotion-edge bench` does."""
    image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read the test photo {photo}; pass --image FILE")
    canvas = letterbox(image, *FRAME_SIZE).image
    cv2.imwrite(str(out), canvas, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return out


def load_classifier(model: Path, averaging: Averaging | None = None) -> EmotionClassifier:
    """Our classifier as the daemon builds it (one thread); None: the model's default."""
    return open_classifier(ClassifierConfig(model_path=model, num_threads=1,
                                            averaging=averaging))


def face_scores(classifier: EmotionClassifier, faces: np.ndarray) -> np.ndarray:
    """The published scores (n, labels in the classifier's order) of uint8 48x48 faces,
    each face given as a whole frame, as the daemon classifies a triggered capture."""
    rows = []
    for face in faces:
        box = FaceBox(0, 0, face.shape[1], face.shape[0])
        frame = Frame(image=face, source="fer2013", captured_at=0.0)
        scores = classifier.classify(frame, box).scores
        rows.append([scores[label] for label in classifier.labels])
    return np.array(rows, dtype=np.float32)


@dataclass
class EdgeRun:
    """The daemon's per-capture path: pipeline.handle then publisher.publish (which spools
    the result and returns; the publisher's own thread sends it at QoS 1)."""

    pipeline: Pipeline
    publisher: MqttPublisher
    publish_ms: list[float] = field(default_factory=list)

    def step(self) -> Result:
        result, frame = self.pipeline.handle(TriggerEvent(kind="cli", at=time.time()))
        start = time.perf_counter()
        self.publisher.publish(result, frame)
        self.publish_ms.append((time.perf_counter() - start) * 1000.0)
        return result


@contextmanager
def edge_run(model: Path, frame_path: Path, workdir: Path) -> Iterator[EdgeRun]:
    """Source, detector, classifier, publisher connected to a fresh loopback broker."""
    with ExitStack() as stack:
        (workdir / "broker").mkdir(exist_ok=True)
        port = stack.enter_context(Broker(workdir / "broker")).port
        settings = Settings(
            device_id="bench", source=ImagesConfig(path=frame_path, is_looping=True),
            classifier=ClassifierConfig(model_path=model, num_threads=1),
            mqtt=MqttConfig(host="127.0.0.1", port=port,
                            spool=SpoolConfig(path=workdir / "spool.sqlite")))
        pipeline = stack.enter_context(open_pipeline(settings))
        connection = stack.enter_context(open_connection(settings.mqtt, "bench", environ={}))
        publisher = stack.enter_context(open_publisher(settings.mqtt, connection, environ={}))
        publisher.start()
        connection.open()
        if not connection.is_connected.wait(10):
            raise SystemExit(f"could not connect to the bench broker on 127.0.0.1:{port}")
        yield EdgeRun(pipeline, publisher)
        if not publisher.drain(10):
            raise SystemExit(f"{publisher.depth} result(s) never reached the bench broker")


def tflite_macs(path: Path) -> int:
    """Multiply-accumulates per inference, counted from the graph's conv and dense ops."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))  # ops are listed before delegation
    shapes = {t["index"]: t["shape"] for t in interpreter.get_tensor_details()}
    total = 0
    for op in interpreter._get_ops_details():
        name, inputs = op["op_name"], op["inputs"]
        out = shapes[op["outputs"][0]]
        if name == "CONV_2D":  # filter: (out_c, kh, kw, in_c)
            total += int(np.prod(out[1:])) * int(np.prod(shapes[inputs[1]][1:]))
        elif name == "DEPTHWISE_CONV_2D":  # filter: (1, kh, kw, out_c)
            total += int(np.prod(out[1:])) * int(np.prod(shapes[inputs[1]][1:3]))
        elif name == "FULLY_CONNECTED":  # filter: (units, inputs)
            total += int(np.prod(shapes[inputs[1]]))
    return total
