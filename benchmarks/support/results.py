"""Made-up results for what only carries them (the spool, the publisher): the power-cut
workload and the tests."""

from __future__ import annotations

from edge.ports import Emotion, FaceBox, Result

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def make_result(n: int, label: str | None = "happy", request_id: str | None = None) -> Result:
    """A result whose id is `r<n>`, so order can be checked."""
    faces: tuple[tuple[FaceBox, Emotion], ...] = ()
    if label is not None:
        scores = {k: (0.9 if k == label else 0.1 / 6) for k in LABELS}
        faces = ((FaceBox(10, 10, 60, 60), Emotion(label, 0.9, scores)),)
    return Result(id=f"r{n}", request_id=request_id, device="dev", trigger="mqtt",
                  timestamp="2026-01-01T00:00:00.000Z", faces=faces,
                  latency_ms={"total": 1.0}, model="fixed-classifier")
