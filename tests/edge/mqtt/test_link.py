"""The connection's lifecycle: which moves are news (logged), which are refused, and that
nothing leaves CLOSED."""

from __future__ import annotations

import pytest

from edge.mqtt.link import Lifecycle, Link


def connected() -> Lifecycle:
    life = Lifecycle()
    assert life.move(Link.CONNECTING) and life.move(Link.CONNECTED)
    return life


def test_a_retry_that_fails_the_same_way_is_no_news_a_new_reason_is() -> None:
    life = connected()
    assert life.move(Link.LOST, "keepalive timeout")
    assert life.move(Link.UNREACHABLE, "Connection refused")
    assert not life.move(Link.UNREACHABLE, "Connection refused")  # the next attempt
    assert life.move(Link.UNREACHABLE, "TLS handshake failed")
    assert life.move(Link.REFUSED, "Not authorized")
    assert life.move(Link.CONNECTED)
    assert (life.link, life.detail) == (Link.CONNECTED, "")


def test_nothing_leaves_closed() -> None:
    life = connected()
    assert life.move(Link.CLOSED)
    for link in Link:  # a callback that paho runs after close() changes nothing
        assert not life.move(link, "late")
    assert (life.link, life.detail) == (Link.CLOSED, "")


PATHS = {  # how paho's callbacks reach each state but CLOSED
    Link.NEW: (),
    Link.CONNECTING: (Link.CONNECTING,),
    Link.CONNECTED: (Link.CONNECTING, Link.CONNECTED),
    Link.REFUSED: (Link.CONNECTING, Link.REFUSED),
    Link.UNREACHABLE: (Link.CONNECTING, Link.UNREACHABLE),
    Link.LOST: (Link.CONNECTING, Link.CONNECTED, Link.LOST),
}


@pytest.mark.parametrize("state", list(PATHS), ids=lambda link: link.name)
def test_each_state_is_reached_the_way_paho_goes_and_can_be_closed(state: Link) -> None:
    life = Lifecycle()
    for link in PATHS[state]:
        assert life.move(link, "why")
    assert life.link is state and life.move(Link.CLOSED)


@pytest.mark.parametrize(("path", "to"), [
    ((), Link.CONNECTED),  # never opened
    ((Link.CONNECTING, Link.CONNECTED), Link.UNREACHABLE),  # paho reports the loss first
    ((Link.CONNECTING,), Link.LOST),  # nothing to lose yet
])
def test_a_move_the_table_does_not_allow_is_a_bug(path: tuple[Link, ...], to: Link) -> None:
    life = Lifecycle()
    for link in path:
        life.move(link)
    with pytest.raises(ValueError, match=f"cannot go from {life.link.name} to {to.name}"):
        life.move(to)
    assert life.link is (path[-1] if path else Link.NEW)


def test_every_state_but_closed_has_its_path_above() -> None:
    assert set(PATHS) == set(Link) - {Link.CLOSED}
