"""Everything MQTT, both ways: the topic names, the public contract (`topics`); the one
connection (`connection`: its lifecycle in `link`, the guard on paho's callbacks in `guard`,
paho's client with its password and TLS in `client`, `credentials` and `tls`); the capture
commands it receives (`commands`), the results it publishes (`publisher`, with its `spool`
and the `snapshot`), and Home Assistant `discovery`. The MQTT trigger and the app use it;
nothing else talks to paho.

`open_connection` and `open_publisher` are where the MQTT side is built: the app, the
start-up checks and the benchmark call them, so they run what the daemon runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from edge.mqtt.config import MqttConfig

if TYPE_CHECKING:
    from edge.mqtt.connection import MqttConnection
    from edge.mqtt.publisher import MqttPublisher
    from edge.mqtt.spool import Spool


def open_connection(cfg: MqttConfig, device_id: str,
                    environ: Mapping[str, str]) -> MqttConnection:
    """The device's one connection, not yet open: no socket until `open()`. BrokerError when
    the password or TLS files are unusable."""
    from edge.mqtt.connection import MqttConnection

    return MqttConnection(cfg, device_id, environ)


def open_publisher(cfg: MqttConfig, connection: MqttConnection,
                   environ: Mapping[str, str]) -> MqttPublisher:
    """The result publisher, with the spool it keeps each result in until the broker has it
    (`mqtt.spool.path`, else `$STATE_DIRECTORY/spool.sqlite`); ConfigError when the spool
    cannot be created. The caller starts the publisher and closes it (which closes the
    spool) before the connection."""
    from edge.mqtt.publisher import MqttPublisher

    spool = open_spool(cfg, environ)
    try:
        return MqttPublisher(cfg, connection, spool)
    except BaseException:  # the publisher would have owned it
        spool.close()
        raise


def open_spool(cfg: MqttConfig, environ: Mapping[str, str]) -> Spool:
    """The result spool, created if absent; ConfigError when its path is not writable."""
    from edge.mqtt.spool import Spool, spool_path

    return Spool(spool_path(cfg.spool.path, environ), cfg.spool.max_results,
                 cfg.spool.max_age_s, write_after_s=cfg.spool.write_after_s)


def check_spool(cfg: MqttConfig, environ: Mapping[str, str]) -> None:
    """The check `open_spool` makes, without creating anything; ConfigError if it fails."""
    from edge.mqtt.spool import check_spool_path, spool_path

    check_spool_path(spool_path(cfg.spool.path, environ))
