"""ButtonTrigger: a GPIO push button (to ground, internal pull-up) via gpiozero, with an
optional LED lit while a capture runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from edge.errors import ConfigError
from edge.lifetime import Resource
from edge.ports import TriggerEvent
from edge.triggers.config import ButtonConfig


class ButtonTrigger(Resource):
    """Opens the button (and LED) at construction so a wrong pin fails at startup.
    gpiozero calls `when_pressed` on its own thread; it only enqueues. `pin_factory` is
    passed per device (MockFactory in tests), never set globally. The app closes it, which
    frees both pins."""

    def __init__(self, cfg: ButtonConfig, pin_factory: Any = None) -> None:
        from gpiozero import LED, Button

        self.cfg = cfg
        with ExitStack() as opened:  # an LED that fails closes the button opened before it
            self._button = opened.enter_context(_gpio(
                lambda: Button(cfg.pin, pull_up=True, bounce_time=cfg.bounce_s or None,
                               pin_factory=pin_factory),
                f"GPIO pin {cfg.pin} for the button", "trigger.button.pin"))
            self._led = None if cfg.led_pin is None else opened.enter_context(_gpio(
                lambda: LED(cfg.led_pin, pin_factory=pin_factory),
                f"GPIO pin {cfg.led_pin} for the button's LED", "trigger.button.led_pin"))
            opened.pop_all()

    def start(self, fire: Callable[[TriggerEvent], None]) -> None:
        self._button.when_pressed = lambda: fire(TriggerEvent("button", at=time.monotonic()))

    def show_busy(self, is_busy: bool) -> None:
        """Light the LED while a capture runs (worker thread)."""
        if self._led is not None:
            self._led.value = is_busy

    def _close(self) -> None:
        self._button.close()
        if self._led is not None:
            self._led.close()


def _gpio(device: Callable[[], Any], what: str, key: str) -> Any:
    """`device()`, with gpiozero's errors turned into ConfigErrors that say what to fix."""
    from gpiozero.exc import BadPinFactory, GPIOZeroError

    try:
        return device()
    except (BadPinFactory, ImportError) as e:
        raise ConfigError(
            "no GPIO access for trigger.button (not a Raspberry Pi, or lgpio missing): "
            "install lgpio (pip install 'emotion-edge[pi]') or set "
            "trigger.button.is_enabled = false") from e
    except GPIOZeroError as e:
        raise ConfigError(f"cannot use {what} ({e}): check {key}") from e
