"""`SourceBase`: what a frame source that cannot reopen itself answers to `FrameSource`'s
`problem` and `release()`."""

from __future__ import annotations

from edge.lifetime import Resource


class SourceBase(Resource):
    """A source backend's base. It names no lasting fault (a failing read raises SourceError;
    `ReopeningSource`, which the app wraps every camera in, keeps the loss as its `problem`)
    and keeps its device through a pause (only `ReopeningSource` can let go and reopen)."""

    @property
    def problem(self) -> str | None:
        return None

    def release(self) -> None:
        """Nothing: a source that let go of its device could not read again."""
