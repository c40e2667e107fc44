"""Triggers: what starts a capture. Each calls `fire(TriggerEvent)` from its own thread,
which only enqueues; one worker in `edge.app` runs the captures.

Unlike the other roles, several triggers run at once: `open_triggers` opens every one the
config enables, and is the only place that builds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge.triggers.config import TriggerConfig

if TYPE_CHECKING:
    from edge.mqtt.connection import MqttConnection
    from edge.ports import Trigger


def open_triggers(cfg: TriggerConfig, connection: MqttConnection | None,
                  pin_factory: Any = None) -> list[tuple[str, Trigger]]:
    """(name, trigger) for each enabled trigger, not yet started; the caller closes them.

    `connection` carries the capture commands (required when `is_mqtt_enabled`);
    `pin_factory` is gpiozero's (None: the board's own, a MockFactory in tests).
    """
    opened: list[tuple[str, Trigger]] = []
    try:
        if cfg.button.is_enabled:
            from edge.triggers.button import ButtonTrigger

            opened.append(("button", ButtonTrigger(cfg.button, pin_factory=pin_factory)))
        if cfg.is_mqtt_enabled:
            from edge.triggers.mqtt import MqttTrigger

            if connection is None:
                raise ValueError("the MQTT trigger needs the MQTT connection")
            opened.append(("MQTT trigger", MqttTrigger(connection)))
        if cfg.interval_s is not None:
            from edge.triggers.interval import IntervalTrigger

            opened.append(("interval trigger", IntervalTrigger(cfg.interval_s)))
    except BaseException:
        for _, trigger in reversed(opened):
            trigger.close()
        raise
    return opened
