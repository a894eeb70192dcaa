"""passthru=<RADIUS server> and passthru_assign against a real tesserad process, as
radclient shows them: tesserad forwards the login of a user without a token to an upstream
RADIUS server (a pyrad server on loopback) and answers as it did; when the upstream is
silent tesserad sends no answer either (the NAS fails over). With passthru_assign the OTP
in the accepted password gives the user the unowned token it belongs to."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tesserad.core import radius_servers
from tesserad.core.context import Context
from tesserad.daemon import config as configuration

from tests.provision import HOTP_PEOPLE
from tests.radius.test_login_steps_daemon import dave_server
from tests.radius.test_radius_daemon import SECRET, RadiusServer
from tests.radius_upstream import Upstream, upstream
from tests.wired import RFC4226, RFC_SEED_HEX

UPSTREAM_SECRET = "Upstream-daemon-secret-2"
UPSTREAM_PASSWORDS = {"dave": "dave-old-otp-7", "carol": "5678" + RFC4226[0]}
POLICIES = {"passthru": {"scope": "authentication", "action": "passthru=radius1, passthru_assign=pin:6"}}


@pytest.fixture
def upstream_server() -> Iterator[Upstream]:
    yield from upstream(UPSTREAM_SECRET.encode(), UPSTREAM_PASSWORDS, silent={"bob"})


@pytest.fixture
def server(tmp_path: Path, db_url: str, upstream_server: Upstream) -> Iterator[RadiusServer]:
    def prepare(config: Path) -> None:
        """The upstream's definition and an unowned token of realm example."""
        ctx = Context.open(configuration.load(str(config), env={}))
        try:
            with ctx.database.session() as session:
                radius_servers.save(session, ctx.keys.security, "radius1", server="127.0.0.1",
                                    port=upstream_server.port, secret=UPSTREAM_SECRET, description="",
                                    timeout=1, retries=0)
                ctx.tokens.init(session, {"type": "hotp", "otpkey": RFC_SEED_HEX, "serial": "POOL1"})
                ctx.tokens.set_realms(session, "POOL1", ["example"])
                session.commit()
        finally:
            ctx.close()

    # alice has a token; bob, carol and dave have none
    yield from dave_server(tmp_path, db_url, HOTP_PEOPLE[:1], POLICIES, prepare)


def login(server: RadiusServer, user: str, password: str, *, wait: int = 10) -> str:
    """radclient's output for one Access-Request (one try, ``wait`` seconds)."""
    target = f"{server.auth[0]}:{server.auth[1]}"
    attributes = f'User-Name = "{user}", User-Password = "{password}", Message-Authenticator = 0x00\n'
    done = subprocess.run(["radclient", "-x", "-r", "1", "-t", str(wait), target, "auth", SECRET],
                          input=attributes, capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


@pytest.mark.policy_action("authentication", "passthru")
def test_radclient_accept_reject_and_silence_follow_the_upstream(server: RadiusServer,
                                                                 upstream_server: Upstream) -> None:
    assert "Received Access-Accept" in login(server, "dave", UPSTREAM_PASSWORDS["dave"])
    assert "Received Access-Reject" in login(server, "dave", "wrong-password")
    silent = login(server, "bob", "anything", wait=4)
    assert "No reply from server" in silent and "Received" not in silent, silent
    # alice has a token: the upstream is not asked, her token decides.
    assert "Received Access-Accept" in login(server, "alice", "1234" + RFC4226[0])
    assert [(s.user, s.message_authenticator_ok) for s in upstream_server.seen] == \
        [("dave", True), ("dave", True), ("bob", True)]
    assert UPSTREAM_SECRET not in server.daemon.stderr and "wrong-password" not in server.daemon.stderr


@pytest.mark.policy_action("authentication", "passthru_assign")
def test_radclient_login_assigns_the_pool_token_then_the_token_logs_in(server: RadiusServer) -> None:
    assert "Received Access-Accept" in login(server, "carol", UPSTREAM_PASSWORDS["carol"])
    assert "Received Access-Accept" in login(server, "carol", "5678" + RFC4226[1])
    assert "Received Access-Reject" in login(server, "carol", "5678" + RFC4226[1])  # used up
    assert "Received Access-Reject" in login(server, "carol", UPSTREAM_PASSWORDS["carol"])  # no passthru now
    audit = [(r.user, r.serial, r.authentication) for r in server.audit() if r.user == "carol"]
    assert audit[:2] == [("carol", "POOL1", "ACCEPT"), ("carol", "POOL1", "ACCEPT")], audit
