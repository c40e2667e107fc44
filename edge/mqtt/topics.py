"""The device's MQTT topics: the public contract, the one place their names are spelled.

Every topic is `<prefix>/<device>/<leaf>`, `<prefix>` being `mqtt.topic_prefix` and
`<device>` the `device_id`. Dashboards, automations and Home Assistant subscribe to these
names, so renaming one breaks them; the README's "MQTT contract" table documents each:

- `status`: `online` on every connect, `offline` as the last will and on a clean stop;
  retained, QoS 1;
- `result`, `person`: events (a result per capture; a person per ended track in continuous
  mode), QoS 1, never retained, spooled while the broker is away;
- `emotion`, `faces`, `presence`, `paused`: states, retained, QoS 1;
- `snapshot`: a JPEG of the capture, QoS 0, only when the user opted in;
- `capture/set`, `pause/set`: commands to the device, QoS 1; a retained one is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    """The topic names of one device."""

    prefix: str
    device: str

    def _t(self, leaf: str) -> str:
        return f"{self.prefix}/{self.device}/{leaf}"

    @property
    def status(self) -> str:
        return self._t("status")

    @property
    def result(self) -> str:
        return self._t("result")

    @property
    def emotion(self) -> str:
        return self._t("emotion")

    @property
    def snapshot(self) -> str:
        return self._t("snapshot")

    @property
    def capture(self) -> str:
        return self._t("capture/set")

    @property
    def person(self) -> str:
        return self._t("person")

    @property
    def faces(self) -> str:
        return self._t("faces")

    @property
    def presence(self) -> str:
        return self._t("presence")

    @property
    def paused(self) -> str:
        return self._t("paused")

    @property
    def pause(self) -> str:
        return self._t("pause/set")
