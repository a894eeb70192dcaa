"""The 4eyes token over RADIUS: bob and carol confirm alice's login, in one User-Password or
one Access-Challenge after the other, with their real HOTP and TOTP tokens."""

from __future__ import annotations

from pyrad import packet as rp

from tesserad.core.tokens import oath
from tesserad.radius import wire

from tests.radius.conftest import CLIENTS
from tests.radius.nas import access_request
from tests.radius.test_reply_protocol import ask, edge_with
from tests.wired import RFC4226, RFC_SEED_HEX, Core

CAROL_KEY = bytes(range(20))


def carol_otp(core: Core) -> str:
    return oath.hotp(CAROL_KEY, int(core.clock.now()) // 30)


def two_man_rule(core: Core, pin: str = "four") -> str:
    core.enroll("bob", type="hotp", otpkey=RFC_SEED_HEX, pin="bb")
    core.enroll("carol", type="totp", otpkey=CAROL_KEY.hex(), pin="cc")
    return core.enroll("alice", type="4eyes", pin=pin, **{"4eyes": "example:2"})


def challenged(reply: rp.Packet) -> tuple[bytes, list[str]]:
    assert reply.code == rp.AccessChallenge, reply.code
    [state] = wire.raw_values(reply, wire.STATE)
    return state, reply["Reply-Message"]


def test_both_values_in_one_access_request(core: Core) -> None:
    edge = edge_with(core, CLIENTS)
    two_man_rule(core)
    both = f"cc{carol_otp(core)} bb{RFC4226[0]}"
    assert ask(edge, access_request("alice", both)).code == rp.AccessAccept
    assert ask(edge, access_request("alice", both)).code == rp.AccessReject  # each value counts once
    assert ask(edge, access_request("alice", f"bb{RFC4226[1]}")).code == rp.AccessChallenge


def test_one_access_challenge_per_further_token(core: Core) -> None:
    edge = edge_with(core, CLIENTS)
    two_man_rule(core)
    state, prompt = challenged(ask(edge, access_request("alice", "four")))
    assert prompt == ["Please enter the PIN and OTP value of a further token: 2 of realm example missing."]
    assert ask(edge, access_request("alice", "bb000000", state=state)).code == rp.AccessReject
    state2, prompt = challenged(ask(edge, access_request("alice", f"bb{RFC4226[0]}", state=state)))
    assert prompt == ["Please enter the PIN and OTP value of a further token: 1 of realm example missing."]
    assert ask(edge, access_request("alice", f"bb{RFC4226[1]}", state=state2)).code == rp.AccessReject
    assert ask(edge, access_request("alice", f"cc{carol_otp(core)}", state=state2)).code == rp.AccessAccept
    # The transaction is closed: its state opens nothing any more.
    assert ask(edge, access_request("alice", f"bb{RFC4226[2]}", state=state2)).code == rp.AccessReject
