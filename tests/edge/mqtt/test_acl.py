"""docs/mosquitto-acl.conf on a real mosquitto with a password file: the daemon, logged in
as its own account, works (results, Home Assistant discovery, commands, the last will),
the read-only account reads results but can neither capture nor pause nor publish, and a
device cannot touch another device's topics. The broker's own log shows each denial."""

from __future__ import annotations

import dataclasses
import getpass
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks.support.broker import LOOPBACK, Broker, mosquitto_binary
from benchmarks.support.watcher import Watcher
from tests import wait
from tests.edge.daemon import REPO, Daemon

pytestmark = [pytest.mark.daemon, pytest.mark.slow]
ACL = REPO / "docs" / "mosquitto-acl.conf"
PASSWORDS = {"dev": "dev-pw-123", "homeassistant": "ha-pw-456", "dashboard": "dash-pw-789"}
BASE = "emotion-edge/dev"


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[Broker]:
    if mosquitto_binary() is None or shutil.which("mosquitto_passwd") is None:
        pytest.skip("the ACL test needs mosquitto and mosquitto_passwd (apt install mosquitto)")
    workdir = tmp_path / "broker"
    workdir.mkdir()
    passwd = workdir / "passwd"
    passwd.touch(mode=0o600)
    for user, password in PASSWORDS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True,
                       capture_output=True)
    broker = Broker(workdir)
    broker.conf.write_text("\n".join([
        f"listener {broker.port} {LOOPBACK}", f"user {getpass.getuser()}", "persistence false",
        f"log_dest file {workdir / 'mosquitto.log'}", "log_type all",
        "allow_anonymous false", f"password_file {passwd}", f"acl_file {ACL}"]) + "\n")
    with broker:
        yield broker


def account(broker: Broker, user: str) -> Broker:
    """The same broker as `user` sees it (what a Watcher logs in with)."""
    return dataclasses.replace(broker, username=user, password=PASSWORDS[user])


def denials(broker: Broker) -> set[str]:
    """Topics the broker refused a publish on, from its log."""
    return {line.split("'")[1] for line in broker.log_text().splitlines()
            if "Denied PUBLISH" in line and "'" in line}


def denied(broker: Broker, topic: str) -> bool:
    return topic in denials(broker)


def test_the_example_acl_gives_each_account_what_it_needs_only(
        tmp_path: Path, acl_broker: Broker, tiny_model: Path, images: Path,
        watch: Callable[..., Watcher], daemons: Callable[..., Daemon]) -> None:
    ha = watch(account(acl_broker, "homeassistant"), ("emotion-edge/#", "homeassistant/#"))
    dashboard = watch(account(acl_broker, "dashboard"), ("emotion-edge/#",))
    mqtt = account(acl_broker, "dev").mqtt_config(
        spool={"path": str(tmp_path / "spool.sqlite")}, discovery={"is_enabled": True})
    daemon = daemons(tmp_path, {
        "device_id": "dev", "source": {"kind": "images", "path": str(images)},
        "classifier": {"model_path": str(tiny_model)},
        "trigger": {"button": {"is_enabled": False}},
        "worker": {"min_interval_s": 0}, "mqtt": mqtt})
    daemon.start()
    assert ha.next(f"{BASE}/status", timeout_s=30)[1] == b"online"
    # the capture button, emotion, confidence, face count, presence and the pause switch
    wait.until(lambda: sum(t.startswith("homeassistant/") and t.endswith("/config")
                           for t in ha.latest) == 6, 10, "six discovery configs")

    # the read-only account: refused on every command and on results
    for topic in (f"{BASE}/capture/set", f"{BASE}/pause/set", f"{BASE}/result"):
        dashboard.publish(topic, json.dumps({"request_id": "from-dashboard"}))
        wait.until(lambda t=topic: denied(acl_broker, t), 5, f"the broker to deny {topic}")
    # the controller's command runs, and is the first result: the dashboard's never ran
    ha.publish(f"{BASE}/capture/set", json.dumps({"request_id": "from-ha"}))
    result = json.loads(ha.next(f"{BASE}/result", timeout_s=15)[1])
    assert result["request_id"] == "from-ha" and result["device"] == "dev"
    seen = json.loads(dashboard.next(f"{BASE}/result", timeout_s=5)[1])
    assert seen["request_id"] == "from-ha"  # but it reads results

    # a device account stays in its own subtree
    intruder = watch(account(acl_broker, "dev"), ("emotion-edge/other/#",))
    intruder.publish("emotion-edge/other/capture/set", "1")
    wait.until(lambda: denied(acl_broker, "emotion-edge/other/capture/set"), 5,
               "the broker to deny a device writing another device's topic")

    daemon.kill()  # no clean stop: only the broker's last will, allowed by the ACL
    assert dashboard.next(f"{BASE}/status", timeout_s=15)[1] == b"offline"
    # and nothing the daemon itself sent was refused
    assert denials(acl_broker) == {f"{BASE}/capture/set", f"{BASE}/pause/set", f"{BASE}/result",
                                   "emotion-edge/other/capture/set"}
