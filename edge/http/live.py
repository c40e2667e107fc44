"""`LiveView`: what the page shows, handed over by the worker without ever making it wait.

The worker thread calls `offer(result, frame)` after every capture: it appends references
under a lock held for a few list operations, never copies or encodes. A frame is kept only
while a page holds a watch lease (`watch()`, renewed by every poll of the page); without one
the view keeps no frame at all. JPEG encoding happens on the HTTP thread that asks for a
frame (`jpeg`), once per frame however many pages ask.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.ports import Frame, Result

LEASE_S = 5.0  # a page that stops polling for this long stops the frames
HISTORY = 10  # results listed on the page
KEPT_FRAMES = 2  # the page reads the latest result, then its frame: keep one more for the race
FPS_WINDOW_S = 10.0
JPEG_QUALITY = 75


@dataclass(frozen=True)
class Seen:
    """One capture as the view got it: the result and the monotonic time it arrived."""

    result: Result
    at: float


class LiveView:
    """Thread-safe. `offer` is called by the worker thread; everything else by HTTP threads.
    Holds only references; nothing to close."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 lease_s: float = LEASE_S) -> None:
        self._clock = clock
        self._lease_s = lease_s
        self._lock = threading.Lock()
        self._seen: deque[Seen] = deque(maxlen=HISTORY)
        self._made_at: deque[float] = deque(maxlen=256)  # arrival times of captures made
        self._frames: dict[str, tuple[Frame, Result]] = {}  # result id -> its frame
        self._watched_until = float("-inf")
        self._jpeg_lock = threading.Lock()
        self._jpeg: tuple[str, bytes] | None = None
        self._summaries: dict[str, dict[str, Any]] = {}  # result id -> its row on the page
        self.encoded = 0  # frames encoded so far (the benchmarks and tests read it)

    def offer(self, result: Result, frame: Frame | None) -> None:
        """Worker thread: O(1), no copy, no encoding."""
        now = self._clock()
        with self._lock:
            self._seen.append(Seen(result, now))
            if result.error is None:
                self._made_at.append(now)
            if frame is None:
                return
            if now > self._watched_until:
                self._frames.clear()  # nobody watches: keep no picture
                return
            self._frames[result.id] = (frame, result)
            while len(self._frames) > KEPT_FRAMES:
                del self._frames[next(iter(self._frames))]

    def watch(self) -> None:
        """A page is on: keep frames for the next `lease_s` seconds."""
        with self._lock:
            self._watched_until = self._clock() + self._lease_s

    @property
    def is_watched(self) -> bool:
        return self._clock() <= self._watched_until

    def recent(self) -> list[Seen]:
        """The last results, newest first."""
        with self._lock:
            return list(reversed(self._seen))

    def latest_framed(self) -> Result | None:
        """The newest result whose frame is kept, or None."""
        with self._lock:
            if self._clock() > self._watched_until:
                self._frames.clear()  # the lease ran out between captures
            if not self._frames:
                return None
            return self._frames[next(reversed(self._frames))][1]

    def summary(self, result: Result,
                make: Callable[[Result], dict[str, Any]]) -> dict[str, Any]:
        """`make(result)`, made once per result however often the page polls."""
        with self._lock:
            made = self._summaries.get(result.id)
        if made is None:
            made = make(result)
            with self._lock:
                self._summaries[result.id] = made
                while len(self._summaries) > 2 * HISTORY:
                    del self._summaries[next(iter(self._summaries))]
        return made

    def fps(self) -> float:
        """Captures made per second over the last ten seconds."""
        now = self._clock()
        with self._lock:
            recent = [t for t in self._made_at if now - t <= FPS_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)

    def jpeg(self, result_id: str) -> bytes | None:
        """The JPEG of the frame of `result_id`, or None when it is no longer kept."""
        with self._lock:
            kept = self._frames.get(result_id) if self._clock() <= self._watched_until else None
        if kept is None:
            return None
        with self._jpeg_lock:  # one encode per frame, whoever asks first
            if self._jpeg is not None and self._jpeg[0] == result_id:
                return self._jpeg[1]
            data = encode_jpeg(kept[0])
            self._jpeg = (result_id, data)
            self.encoded += 1
            return data


def encode_jpeg(frame: Frame) -> bytes:
    import cv2  # the daemon has it loaded already; `import edge.http` stays light

    is_ok, data = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not is_ok:
        raise ValueError("OpenCV could not encode the frame as JPEG")
    return bytes(data)
