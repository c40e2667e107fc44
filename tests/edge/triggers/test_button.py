"""The GPIO button over gpiozero's MockFactory: a press (drive_low) fires one event."""

from __future__ import annotations

import queue

import pytest
from gpiozero.pins.mock import MockFactory

from edge.errors import ConfigError
from edge.ports import TriggerEvent
from edge.triggers.button import ButtonTrigger
from edge.triggers.config import ButtonConfig


def test_press_fires_a_button_event() -> None:
    factory = MockFactory()
    events: queue.Queue[TriggerEvent] = queue.Queue()
    trigger = ButtonTrigger(ButtonConfig(pin=17, bounce_s=0), pin_factory=factory)
    trigger.start(events.put)
    factory.pin(17).drive_low()
    event = events.get(timeout=2)
    assert event.kind == "button" and event.at > 0
    factory.pin(17).drive_high()
    trigger.close()
    factory.pin(17).drive_low()
    assert events.empty()


def test_led_is_lit_while_busy() -> None:
    factory = MockFactory()
    trigger = ButtonTrigger(ButtonConfig(pin=17, led_pin=27), pin_factory=factory)
    trigger.show_busy(True)
    assert factory.pin(27).state == 1
    trigger.show_busy(False)
    assert factory.pin(27).state == 0
    trigger.close()


def test_off_a_pi_without_factory_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from gpiozero import Device

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(Device, "pin_factory", None)
    try:
        ButtonTrigger(ButtonConfig(pin=17)).close()
    except ConfigError as e:
        assert "trigger.button.is_enabled = false" in str(e)
    else:  # a real Pi with lgpio: nothing to check here
        pytest.skip("GPIO is available on this machine")


def test_missing_factory_library_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from gpiozero import Device

    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    monkeypatch.setattr(Device, "pin_factory", None)
    with pytest.raises(ConfigError, match="install lgpio"):
        ButtonTrigger(ButtonConfig(pin=17))


def test_pin_in_use_is_a_config_error() -> None:
    factory = MockFactory()
    first = ButtonTrigger(ButtonConfig(pin=17), pin_factory=factory)
    with pytest.raises(ConfigError, match=r"trigger\.button\.pin"):
        ButtonTrigger(ButtonConfig(pin=17), pin_factory=factory)
    first.close()


def test_an_led_that_cannot_open_releases_the_button_opened_before_it() -> None:
    from gpiozero import LED, Button

    factory = MockFactory()
    taken = LED(27, pin_factory=factory)  # another program holds the LED's pin
    # `failed` keeps the half-built trigger alive: its button is closed, not left to __del__
    with pytest.raises(ConfigError, match=r"GPIO pin 27 for the button's LED") as failed:
        ButtonTrigger(ButtonConfig(pin=17, led_pin=27), pin_factory=factory)
    assert "trigger.button.led_pin" in str(failed.value)
    again = Button(17, pin_factory=factory)  # GPIOPinInUse if the failed trigger kept it
    assert not again.closed
    again.close()
    taken.close()
