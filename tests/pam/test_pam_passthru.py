"""passthru=<RADIUS server> through the PAM listener over the wired core (SQLite and
PostgreSQL): a user without a token is accepted or rejected as the upstream RADIUS server
(a real UDP server on loopback) answers, and its silence is "unavailable"
(PAM_AUTHINFO_UNAVAIL in the module), never a reject."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tesserad.core import radius_servers
from tesserad.pam_module.local import LocalAuthenticator

from tests.helpers import run_inline
from tests.pam.test_listener import Listener, replies, request_frame
from tests.radius_upstream import Upstream, upstream
from tests.wired import Core

SECRET = "Pam-upstream-secret-4"


@pytest.fixture
def listener(core: Core) -> Iterator[tuple[Listener, Upstream]]:
    for server in upstream(SECRET.encode(), {"bob": "bob-old-pw"}, silent={"carol"}):
        with core.database.session() as session:
            radius_servers.save(session, core.auth.engine.security, "radius1", server="127.0.0.1", port=server.port,
                                secret=SECRET, description="", timeout=1, retries=0)
            session.commit()
        core.settings(passthru=True, passthru_server="radius1")
        yield Listener(LocalAuthenticator(run_inline, core.auth)), server


@pytest.mark.policy_action("authentication", "passthru")
def test_pam_follows_the_upstream_and_its_silence_is_unavailable(listener: tuple[Listener, Upstream]) -> None:
    local, server = listener
    conn = local.connect()
    conn.dataReceived(request_frame(user="bob", password="bob-old-pw"))
    conn.dataReceived(request_frame(user="bob", password="wrong"))
    conn.dataReceived(request_frame(user="carol", password="anything"))
    assert [reply["result"] for reply in replies(conn)] == ["accept", "reject", "unavailable"]
    assert [s.user for s in server.seen] == ["bob", "bob", "carol"]
