"""The outgoing RADIUS client against a real UDP upstream: Accept, Reject, silence after
the retries (Unavailable), and replies that do not verify are treated as silence."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tesserad.core.errors import Unavailable
from tesserad.core.radius_client import Upstream, authenticate

from tests.radius_upstream import Upstream as Server
from tests.radius_upstream import upstream

SECRET = b"Upstream-secret-7"


@pytest.fixture
def server() -> Iterator[Server]:
    yield from upstream(SECRET, {"carol": "Carol-pw-1", "mallory": "x", "trent": "Trent-pw"},
                        silent={"mallory"}, forged={"trent"})


def to(server: Server, secret: bytes = SECRET, retries: int = 0) -> Upstream:
    return Upstream("127.0.0.1", server.port, secret, timeout=1, retries=retries)


def test_accept_and_reject_with_a_message_authenticator(server: Server) -> None:
    assert authenticate(to(server), "carol", "Carol-pw-1") is True
    assert authenticate(to(server), "carol", "wrong") is False
    assert authenticate(to(server), "nobody", "Carol-pw-1") is False
    assert [(s.user, s.message_authenticator_ok, s.nas_identifier) for s in server.seen] == \
        [("carol", True, "tesserad"), ("carol", True, "tesserad"), ("nobody", True, "tesserad")]
    assert "Upstream-secret" not in repr(to(server))


def test_silence_is_unavailable_after_the_retries(server: Server) -> None:
    started = time.monotonic()
    with pytest.raises(Unavailable, match=rf"127.0.0.1:{server.port} did not answer"):
        authenticate(to(server, retries=1), "mallory", "x")
    assert time.monotonic() - started >= 2  # two sends, one second each
    assert [s.user for s in server.seen] == ["mallory", "mallory"]


def test_replies_that_do_not_verify_count_as_silence(server: Server) -> None:
    """A reply signed with another secret (or to a request sent with a wrong secret) is
    dropped like noise: the client never takes it for a "no" or a "yes"."""
    with pytest.raises(Unavailable):
        authenticate(to(server), "trent", "Trent-pw")
    with pytest.raises(Unavailable):
        authenticate(to(server, secret=b"wrong-secret"), "carol", "Carol-pw-1")


def test_nobody_listening_is_unavailable() -> None:
    with pytest.raises(Unavailable):
        authenticate(Upstream("127.0.0.1", 9, SECRET, timeout=1, retries=0), "carol", "x")
