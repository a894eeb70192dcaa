"""Steps after a granted login over RADIUS, in memory over the real engine and policies:
a due PIN change (change_pin_via_validate) as consecutive Access-Challenges, and the
enrollment of a first token (enroll_via_multichallenge) with its otpauth URL in the
Reply-Message."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyrad import packet as rp

from tesserad.core.clock import utc_datetime
from tesserad.radius import wire

from tests.http.test_enroll_at_login import DAVE_PASSWORD, add_dave, enrollment_url, otp_of
from tests.radius.conftest import CLIENTS
from tests.radius.nas import access_request
from tests.radius.test_reply_protocol import ask, edge_with, policy
from tests.wired import RFC4226, RFC_SEED_HEX, Core


def challenged(reply: rp.Packet) -> tuple[bytes, list[str]]:
    assert reply.code == rp.AccessChallenge, reply.code
    [state] = wire.raw_values(reply, wire.STATE)
    return state, reply["Reply-Message"]


@pytest.mark.policy_action("authentication", "change_pin_via_validate")
def test_a_due_pin_change_over_access_challenges(core: Core) -> None:
    edge = edge_with(core, CLIENTS)
    policy(edge, "validate", "authentication", action="change_pin_via_validate")
    serial = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    with core.database.session() as session:
        core.tokens.get(session, serial).set_next_pin_change(utc_datetime(core.clock))
        session.commit()

    state, prompt = challenged(ask(edge, access_request("alice", "1234" + RFC4226[0])))
    assert prompt == ["Please enter a new PIN"]
    again, prompt = challenged(ask(edge, access_request("alice", "2468", state=state)))
    assert prompt == ["Please enter the new PIN again"]
    assert ask(edge, access_request("alice", "2468", state=again)).code == rp.AccessAccept
    assert core.token_info(serial, "next_pin_change") is None  # no change_pin_every: not due again
    assert ask(edge, access_request("alice", "1234" + RFC4226[1])).code == rp.AccessReject
    assert ask(edge, access_request("alice", "2468" + RFC4226[2])).code == rp.AccessAccept


@pytest.mark.policy_action("authentication", "enroll_via_multichallenge")
def test_a_first_token_enrolled_over_access_challenge(core: Core, tmp_path: Path) -> None:
    edge = edge_with(core, CLIENTS)
    add_dave(tmp_path / "passwd")
    policy(edge, "passthru", "authentication", action="passthru=userstore")
    policy(edge, "enroll", "authentication", action="enroll_via_multichallenge=hotp")
    state, messages = challenged(ask(edge, access_request("dave", DAVE_PASSWORD)))
    text = "".join(messages)
    assert text.startswith("Please scan the QR code!\notpauth://hotp/")
    # The NAS shows the URL; an authenticator app that reads it answers with its first value.
    url = enrollment_url(text)
    assert ask(edge, access_request("dave", otp_of(url, 0), state=state)).code == rp.AccessAccept
    assert ask(edge, access_request("dave", DAVE_PASSWORD)).code == rp.AccessReject
    assert ask(edge, access_request("dave", otp_of(url, 1))).code == rp.AccessAccept
