"""`ReopeningSource`: a frame source that survives its camera going away and coming back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from edge.errors import BadFrame, SourceError, SourceExhausted
from edge.lifetime import Resource
from edge.ports import Frame, FrameSource

log = logging.getLogger(__name__)

MIN_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0  # an unplugged webcam is retried at least this often


class ReopeningSource(Resource):
    """Wraps a backend's source, `reopen` opening another (`edge.sources.open_source` makes
    every source this way). A read that fails with SourceError (a USB
    webcam unplugged, a folder removed, a device that stopped answering) closes the source;
    later reads reopen it, at most once per backoff (1 s doubling to 30 s, monotonic
    clock), and fail at once with a SourceError saying since when the camera is lost.
    `problem` says so for STATUS=. A replay that ended (`SourceExhausted`) or one damaged
    frame (`BadFrame`) is not a loss.
    Worker thread only (`problem` may be read from any thread); the app closes it, which
    closes the source it holds."""

    def __init__(self, reopen: Callable[[], FrameSource], source: FrameSource, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._open = reopen
        self._source: FrameSource | None = source
        self._clock = clock
        self._backoff_s = MIN_BACKOFF_S
        self._retry_at = 0.0
        self._lost_since: str | None = None
        self._reason = ""

    @property
    def backend(self) -> FrameSource | None:
        """The backend's source it reads now; None while the camera is lost."""
        return self._source

    @property
    def problem(self) -> str | None:
        """"camera lost since <UTC time>: <why>", or None while it works."""
        if self._lost_since is None:
            return None
        return f"camera lost since {self._lost_since}: {self._reason}"

    def read(self) -> Frame:
        if self.closed:  # a read hung past close() must not reopen the camera
            raise SourceError("the camera is closed: the daemon is stopping")
        source = self._reopen() if self._source is None else self._source
        try:
            frame = source.read()
        except (SourceExhausted, BadFrame):
            raise
        except SourceError as e:
            self._lose(str(e))
            raise
        if self._lost_since is not None:
            log.info("camera back (lost since %s)", self._lost_since)
            self._lost_since = None
        return frame

    @property
    def is_open(self) -> bool:
        """True while it holds an open camera (False when lost, released or closed)."""
        return self._source is not None

    def release(self) -> None:
        """Close the camera until the next read reopens it (a pause); worker thread only."""
        self._drop()
        self._retry_at = 0.0

    def _close(self) -> None:
        self._drop()

    def _drop(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            source.close()

    def _lose(self, reason: str) -> None:
        self._reason = reason
        if self._lost_since is None:
            self._lost_since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            self._backoff_s = MIN_BACKOFF_S
            log.error("camera lost: %s; reopening it, retrying every %.0f-%.0f s", reason,
                      MIN_BACKOFF_S, MAX_BACKOFF_S)
        self._retry_at = self._clock() + self._backoff_s
        try:
            self._drop()
        except Exception:  # a vanished device may fail to close; it is gone either way
            log.debug("closing the lost camera failed", exc_info=True)

    def _reopen(self) -> FrameSource:
        left = self._retry_at - self._clock()
        if left > 0:
            raise SourceError(f"{self.problem}; next reopen in {left:.1f} s")
        try:
            self._source = self._open()
        except SourceError as e:
            self._reason = str(e)
            self._backoff_s = min(MAX_BACKOFF_S, self._backoff_s * 2)
            self._retry_at = self._clock() + self._backoff_s
            raise SourceError(f"{self.problem}; next reopen in {self._backoff_s:.0f} s") from e
        return self._source
