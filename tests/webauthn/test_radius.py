"""RADIUS cannot carry a WebAuthn assertion: a PIN over RADIUS challenges only the user's
other tokens, and a user with WebAuthn tokens alone gets a clear, audited Access-Reject.
Real RADIUS packets (pyrad) through the RADIUS edge in memory, SQLite and PostgreSQL."""

from __future__ import annotations

from pyrad import packet as rp
from sqlalchemy import select

from tesserad.core.store.models import AuditEntry
from tesserad.radius import wire

from tests.radius.conftest import CLIENTS
from tests.radius.nas import access_request
from tests.radius.test_reply_protocol import ask, edge_with, policy
from tests.softauthn import SoftAuthenticator
from tests.webauthn.enrolled import STEP_ONE, finish
from tests.wired import RFC4226, RFC_SEED_HEX, Core

MESSAGE = "WebAuthn tokens cannot be used over RADIUS: they need a browser or a privacyIDEA-compatible HTTP client"


def webauthn_token(core: Core, login: str, pin: str) -> str:
    serial = core.enroll(login, pin=pin, **STEP_ONE)
    with core.database.session() as session:
        finish(core.tokens.get(session, serial), SoftAuthenticator())
        session.commit()
    return serial


def test_only_the_otp_token_is_challenged_over_radius(core: Core) -> None:
    edge = edge_with(core, CLIENTS)
    policy(edge, "cr", "authentication", action="challenge_response=hotp")
    webauthn_token(core, "alice", "1234")
    hotp = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    reply = ask(edge, access_request("alice", "1234"))
    assert reply.code == rp.AccessChallenge
    assert reply["Reply-Message"] == ["please enter otp: "]
    [state] = wire.raw_values(reply, wire.STATE)
    with core.database.session() as session:
        assert session.scalars(select(AuditEntry.serial).order_by(AuditEntry.id.desc()).limit(1)).one() == hotp
    assert ask(edge, access_request("alice", RFC4226[0], state=state)).code == rp.AccessAccept


def test_webauthn_tokens_alone_are_a_clear_audited_reject(core: Core) -> None:
    edge = edge_with(core, CLIENTS)
    serial = webauthn_token(core, "bob", "5678")
    reply = ask(edge, access_request("bob", "5678"))
    assert reply.code == rp.AccessReject
    with core.database.session() as session:
        row = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (row.user, row.serial, row.success, row.info) == ("bob", serial, False, MESSAGE)
    assert ask(edge, access_request("bob", "0000")).code == rp.AccessReject
