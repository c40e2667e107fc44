"""`PauseSwitch`: detection paused from Home Assistant, kept across restarts.

The state is one small file, `paused`, beside the result spool (so in the state directory:
`$STATE_DIRECTORY/paused` by default), present while paused. It is replaced atomically, so
a power cut leaves either the old state or the new one. The MQTT side turns it on and off
(`edge.mqtt.pause`); the worker reads it before every capture, closes the camera while it
is on and answers capture requests with a `paused` error result.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from edge.errors import ConfigError

log = logging.getLogger(__name__)

FILE_NAME = "paused"


def pause_path(spool: Path | None, environ: Mapping[str, str]) -> Path:
    """`paused` in the spool's folder (`mqtt.spool.path`, else `$STATE_DIRECTORY`, else .)."""
    from edge.mqtt.spool import spool_path

    return spool_path(spool, environ).parent / FILE_NAME


class PauseSwitch:
    """Whether detection is paused. `set` may be called from any thread (paho's); listeners
    run on that thread and must only publish or enqueue. Holds no open file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._is_paused = path.exists()
        self._listeners: list[Callable[[bool], None]] = []
        if self._is_paused:
            log.warning("camera paused (kept in %s since before this start); turn the pause "
                        "switch off in Home Assistant, or delete that file, to resume", path)

    @property
    def is_paused(self) -> bool:
        return self._is_paused

    def add_listener(self, listener: Callable[[bool], None]) -> None:
        self._listeners.append(listener)

    def set(self, is_paused: bool) -> None:
        """Pause or resume, writing the state first so that it survives a restart."""
        with self._lock:
            if is_paused == self._is_paused:
                return
            self._write(is_paused)
            self._is_paused = is_paused
        log.warning("camera %s from MQTT", "paused" if is_paused else "resumed")
        for listener in self._listeners:
            listener(is_paused)

    def _write(self, is_paused: bool) -> None:
        try:
            if is_paused:
                tmp = self.path.with_name(self.path.name + ".tmp")
                with tmp.open("w", encoding="utf-8") as f:
                    f.write("paused from MQTT\n")
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            else:
                self.path.unlink(missing_ok=True)
            # the rename or the removal is in the directory: make it durable too, or a power
            # cut may bring back the old state
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except OSError as e:
            raise ConfigError(f"cannot keep the pause state in {self.path}: {e.strerror}; "
                              "check that $STATE_DIRECTORY is writable") from e
