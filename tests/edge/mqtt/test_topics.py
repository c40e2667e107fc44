"""The topic names are the public contract: pinned here, and each one is in the README's
table."""

from __future__ import annotations

import re
from pathlib import Path

from edge.mqtt.topics import Topics

README = Path(__file__).resolve().parents[3] / "README.md"
NAMES = [name for name in vars(Topics) if not name.startswith("_")]  # the fields have no default


def test_the_topic_names() -> None:
    topics = Topics("emotion-edge", "kitchen")
    assert {name: getattr(topics, name) for name in NAMES} == {
        "status": "emotion-edge/kitchen/status",
        "result": "emotion-edge/kitchen/result",
        "emotion": "emotion-edge/kitchen/emotion",
        "snapshot": "emotion-edge/kitchen/snapshot",
        "capture": "emotion-edge/kitchen/capture/set",
        "person": "emotion-edge/kitchen/person",
        "faces": "emotion-edge/kitchen/faces",
        "presence": "emotion-edge/kitchen/presence",
        "paused": "emotion-edge/kitchen/paused",
        "pause": "emotion-edge/kitchen/pause/set",
    }


def test_the_readme_documents_every_topic_and_no_other() -> None:
    text = README.read_text()
    section = text[text.index("## MQTT contract"):]
    table = section[:section.index("\n\n", section.index("| Topic"))]
    documented = set(re.findall(r"(?:<prefix>/<device>|\.\.\.)/([\w/]+)`", table))
    topics = Topics("<prefix>", "<device>")
    assert documented == {getattr(topics, name).split("/", 2)[2] for name in NAMES}
