"""Steps after a granted login against a real tesserad process, as radclient
(freeradius-utils) shows them: the enrollment of a first token (enroll_via_multichallenge)
with its otpauth URL in Reply-Message, and a due PIN change (change_pin_via_validate)."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tesserad.core.clock import utc_datetime
from tesserad.core.context import Context
from tesserad.daemon import config as configuration

from tests.daemon_process import DaemonProcess
from tests.helpers import daemon_config, free_port, write_config
from tests.http.test_enroll_at_login import DAVE_PASSWORD, add_dave, otp_of
from tests.provision import HOTP_PEOPLE, provision
from tests.radius.test_radius_daemon import CLIENTS, RadiusServer, needs_radclient, state_of
from tests.wired import PASSWD, RFC4226

POLICIES = {"passthru": {"scope": "authentication", "action": "passthru=userstore", "user": "dave"},
            "enroll": {"scope": "authentication", "action": "enroll_via_multichallenge=hotp", "user": "dave"},
            "validate": {"scope": "authentication", "action": "change_pin_via_validate"}}


def dave_server(tmp_path: Path, db_url: str, tokens: list[dict[str, Any]], policies: dict[str, dict[str, Any]],
                prepare: Callable[[Path], None] = lambda config: None) -> Iterator[RadiusServer]:
    """A running daemon over tests.wired's people and dave (a user-store password, no token),
    with ``tokens`` and ``policies`` provisioned and ``prepare(config)`` done before it starts."""
    needs_radclient()
    auth, acct = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    data = daemon_config(tmp_path, database={"url": db_url}, radius={
        "auth_listen": [f"127.0.0.1:{auth}"], "acct_listen": [f"127.0.0.1:{acct}"], "clients": CLIENTS})
    config = write_config(tmp_path, data)
    passwd = tmp_path / "passwd"
    passwd.write_text(PASSWD)
    add_dave(passwd)
    provision(config, passwd, tokens, policies=policies)
    prepare(config)
    running = RadiusServer(config, data, DaemonProcess(tmp_path / "run", config).start(), ("127.0.0.1", auth),
                           ("127.0.0.1", auth), ("127.0.0.1", acct))
    try:
        yield running
    finally:
        running.daemon.stop()
        running.daemon.close()


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[RadiusServer]:
    yield from dave_server(tmp_path, db_url, HOTP_PEOPLE, POLICIES)


def request(user: str, password: str, state: str | None = None) -> str:
    attributes = f'User-Name = "{user}", User-Password = "{password}", Message-Authenticator = 0x00'
    return attributes + (f", State = {state}" if state else "")


def reply_message(radclient_output: str) -> str:
    """The Reply-Message values radclient printed, joined, with the newline it escapes as \\n."""
    return "".join(re.findall(r'Reply-Message = "(.*)"', radclient_output)).replace("\\n", "\n")


@pytest.mark.policy_action("authentication", "enroll_via_multichallenge")
def test_radclient_enrolls_a_first_token(server: RadiusServer) -> None:
    challenge = server.radclient("auth", request("dave", DAVE_PASSWORD))
    assert "Received Access-Challenge" in challenge.stdout, challenge
    message = reply_message(challenge.stdout)
    assert message.startswith("Please scan the QR code!\notpauth://hotp/"), message
    url = message.split("\n")[1]
    answer = server.radclient("auth", request("dave", otp_of(url, 0), state_of(challenge.stdout)))
    assert answer.returncode == 0 and "Received Access-Accept" in answer.stdout, answer
    assert "otpauth" not in server.daemon.stderr
    assert [r.authentication for r in server.audit() if r.user == "dave"] == ["CHALLENGE", "ACCEPT"]


@pytest.mark.policy_action("authentication", "change_pin_via_validate")
def test_radclient_changes_a_due_pin(server: RadiusServer) -> None:
    ctx = Context.open(configuration.load(str(server.config), env={}))
    try:
        with ctx.database.session() as session:
            ctx.tokens.get(session, "HOTP1").set_next_pin_change(utc_datetime(ctx.clock))
            session.commit()
    finally:
        ctx.close()
    first = server.radclient("auth", request("alice", "1234" + RFC4226[0]))
    assert reply_message(first.stdout) == "Please enter a new PIN", first
    second = server.radclient("auth", request("alice", "8642", state_of(first.stdout)))
    assert reply_message(second.stdout) == "Please enter the new PIN again", second
    done = server.radclient("auth", request("alice", "8642", state_of(second.stdout)))
    assert done.returncode == 0 and "Received Access-Accept" in done.stdout, done
    login = server.radclient("auth", request("alice", "8642" + RFC4226[1]))
    assert login.returncode == 0 and "Received Access-Accept" in login.stdout, login
