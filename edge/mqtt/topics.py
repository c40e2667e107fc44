"""The device's MQTT topics: the public contract, the one place their names are spelled.

Every topic is `<prefix>/<device>/<leaf>`, `<prefix>` being `mqtt.topic_prefix` and
`<device>` the `device_id`. Dashboards, automations and Home Assistant subscribe to these
names, so renaming one breaks them; the README's "MQTT contract" table documents each, and a
test keeps the two equal. All are QoS 1 but `snapshot` (0). Events (results, persons) are
never retained and are spooled while the broker is away; states are retained; a retained
command is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass


class _Leaf:
    """The topic `<prefix>/<device>/<leaf>` of the `Topics` it is read from."""

    def __init__(self, leaf: str) -> None:
        self.leaf = leaf

    def __get__(self, topics: Topics, owner: type[Topics] | None = None) -> str:
        return f"{topics.prefix}/{topics.device}/{self.leaf}"


@dataclass(frozen=True)
class Topics:
    """The topic names of one device."""

    prefix: str
    device: str

    status = _Leaf("status")  # state: `online` on each connect, `offline` as will and on stop
    result = _Leaf("result")  # event: a result per capture
    person = _Leaf("person")  # event: a person per ended track (continuous mode)
    emotion = _Leaf("emotion")  # state: the dominant emotion of the latest capture
    faces = _Leaf("faces")  # state: how many faces
    presence = _Leaf("presence")  # state: ON while there is one
    paused = _Leaf("paused")  # state: the pause switch
    snapshot = _Leaf("snapshot")  # a JPEG of the capture, only when the user opted in
    capture = _Leaf("capture/set")  # command: capture now
    pause = _Leaf("pause/set")  # command: ON pauses, OFF resumes
