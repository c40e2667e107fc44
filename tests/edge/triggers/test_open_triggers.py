"""open_triggers opens every trigger the config enables, and closes what it opened when one
of them cannot open."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from edge.ports import BusyIndicator
from edge.triggers import open_triggers
from edge.triggers.config import ButtonConfig, TriggerConfig


def test_every_enabled_trigger_is_opened_and_only_those() -> None:
    factory = MockFactory()
    cfg = TriggerConfig(button=ButtonConfig(pin=17, led_pin=27), is_mqtt_enabled=False,
                        interval_s=5)
    opened = open_triggers(cfg, None, factory)
    assert [name for name, _ in opened] == ["button", "interval trigger"]
    assert [isinstance(t, BusyIndicator) for _, t in opened] == [True, False]
    for _, trigger in opened:
        trigger.close()
    none = TriggerConfig(button=ButtonConfig(is_enabled=False), is_mqtt_enabled=False)
    assert open_triggers(none, None, factory) == []


def test_a_trigger_that_cannot_open_closes_the_ones_before_it() -> None:
    factory = MockFactory()
    cfg = TriggerConfig(button=ButtonConfig(pin=17), is_mqtt_enabled=True)
    with pytest.raises(ValueError, match="MQTT connection"):
        open_triggers(cfg, None, factory)
    # the button released its pin: a new one can take it
    again = open_triggers(TriggerConfig(button=ButtonConfig(pin=17), is_mqtt_enabled=False),
                          None, factory)
    again[0][1].close()
