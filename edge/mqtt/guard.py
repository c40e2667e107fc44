"""The guard on paho's callbacks, a trust boundary: an exception raised in one (a handler,
a listener) would end paho's network thread for good while the process looks alive. The
first failure of each callback is logged with its traceback, later ones are counted, and
the loop goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class CallbackGuard:
    """Runs callbacks on paho's network thread so that nothing they raise reaches paho.
    `errors` counts the failures of each, by name."""

    def __init__(self) -> None:
        self.errors: dict[str, int] = {}

    def wrap(self, name: str, callback: Callable[..., None]) -> Callable[..., None]:
        """`callback` for paho, guarded."""

        def run(*args: Any) -> None:
            self.call(name, callback, *args)

        return run

    def call(self, name: str, function: Callable[..., None], *args: Any) -> None:
        try:
            function(*args)
        except Exception:
            count = self.errors[name] = self.errors.get(name, 0) + 1
            if count == 1:
                log.exception("error in %s (MQTT network thread); ignored, the connection "
                              "goes on; further errors there are counted, not logged", name)
