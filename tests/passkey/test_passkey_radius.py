"""RADIUS cannot carry a passkey assertion: even where passkey_trigger_by_pin lets a PIN
start a passkey challenge, RADIUS offers only the user's OTP tokens, and a user with passkeys
alone gets an audited Access-Reject. Real RADIUS packets (pyrad) through the RADIUS edge in
memory, SQLite and PostgreSQL. (PAM goes through the same engine rule, shown for webauthn
tokens with pamtester in tests/pam/test_pam_webauthn.py.)"""

from __future__ import annotations

import base64

import pytest
from pyrad import packet as rp
from sqlalchemy import select

from tesserad.core.store.models import AuditEntry
from tesserad.core.tokens import passkey
from tesserad.radius import wire

from tests.radius.conftest import CLIENTS
from tests.radius.nas import access_request
from tests.radius.test_reply_protocol import ask, edge_with, policy
from tests.softauthn import SoftAuthenticator, websafe
from tests.wired import RFC4226, RFC_SEED_HEX, Core

ORIGIN = "https://tessera.example"
OVER_RADIUS = "WebAuthn tokens cannot be used over RADIUS: they need a browser or a privacyIDEA-compatible HTTP client"


def passkey_of(core: Core, login: str, pin: str) -> str:
    """A registered passkey (both enrolment steps without the HTTP edge)."""
    user_id = websafe(b"u" * 32)
    serial = core.enroll(login, type="passkey", pin=pin, webauthn_relying_party_id="tessera.example",
                         webauthn_relying_party_name="Tessera", **{passkey.USER_NAME_PARAM: login,
                                                                   passkey.USER_ID_PARAM: user_id})
    with core.database.session() as session:
        token = core.tokens.get(session, serial)
        nonce = token.info(passkey.NONCE) or ""
        done = SoftAuthenticator().register(base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4)))
        token.complete_two_step({"transaction_id": token.info(passkey.TRANSACTION), passkey.ORIGIN_PARAM: ORIGIN,
                                 "attestationObject": websafe(done.regdata),
                                 "clientDataJSON": websafe(done.clientdata)})
        session.commit()
    return serial


def last_audit(core: Core) -> AuditEntry:
    with core.database.session() as session:
        return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()


@pytest.mark.policy_action("authentication", "passkey_trigger_by_pin")
def test_radius_offers_only_the_otp_token(core: Core) -> None:
    edge = edge_with(core, CLIENTS)
    policy(edge, "pin", "authentication", action="passkey_trigger_by_pin, challenge_response=hotp")
    passkey_of(core, "alice", "1234")
    hotp = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    reply = ask(edge, access_request("alice", "1234"))
    assert reply.code == rp.AccessChallenge and reply["Reply-Message"] == ["please enter otp: "]
    assert last_audit(core).serial == hotp
    [state] = wire.raw_values(reply, wire.STATE)
    assert ask(edge, access_request("alice", RFC4226[0], state=state)).code == rp.AccessAccept


@pytest.mark.parametrize("trigger", [True, False])
def test_passkeys_alone_are_an_audited_reject(core: Core, trigger: bool) -> None:
    edge = edge_with(core, CLIENTS)
    if trigger:
        policy(edge, "pin", "authentication", action="passkey_trigger_by_pin")
    serial = passkey_of(core, "bob", "5678")
    assert ask(edge, access_request("bob", "5678")).code == rp.AccessReject
    row = last_audit(core)
    assert (row.user, row.success) == ("bob", False)
    if trigger:  # the PIN was right: the reason is said
        assert (row.serial, row.info) == (serial, OVER_RADIUS)
