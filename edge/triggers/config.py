"""The trigger settings: the button, MQTT commands, a timer and continuous mode (whose own
settings live with it, in `edge.continuous.config`). No GPIO or MQTT import, so
`edge.config` composes them."""

from __future__ import annotations

from pydantic import Field

from edge.config_base import StrictConfig
from edge.continuous.config import ContinuousConfig


class ButtonConfig(StrictConfig):
    is_enabled: bool = Field(True, description="capture when a GPIO button is pressed")
    pin: int = Field(17, ge=0, le=27, description="BCM pin of the button (wired to ground)")
    bounce_s: float = Field(0.05, ge=0, description="debounce time")
    led_pin: int | None = Field(
        None, ge=0, le=27, description="BCM pin of an LED lit while capturing")


class TriggerConfig(StrictConfig):
    button: ButtonConfig = ButtonConfig()
    is_mqtt_enabled: bool = Field(True, description="capture on <prefix>/<device>/capture/set")
    interval_s: float | None = Field(None, gt=0, description="also capture every N seconds")
    continuous: ContinuousConfig = ContinuousConfig()
