"""The sms token in the core: a PIN alone starts a challenge whose SMS is queued in the
outbox in the same transaction (text from smstext with its tags, the number static or
from the user store), and the OTP from that SMS answers it once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tesserad.core.auth.request import AuthRequest, Outcome
from tesserad.core.outbox import Outgoing
from tesserad.core.sms import gateways
from tesserad.core.store.models import Challenge, OutboxMessage
from tesserad.core.tokens.base import ParameterError

from tests.wired import PASSWD, Core

HTTP = "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider"


@pytest.fixture
def gateway(core: Core) -> str:
    with core.database.session() as session:
        gateways.save(session, core.tokens.security, "gw1", module=HTTP, description="",
                      options={"URL": "http://127.0.0.1:9/send", "to": "{phone}", "text": "{otp}"}, headers={})
        session.commit()
    return "gw1"


def queued(core: Core) -> list[Outgoing]:
    with core.database.session() as session:
        return core.outbox.claim(session, 50)


def otp_of(message: Outgoing) -> str:
    return message.payload["text"].rsplit(" ", 1)[-1]


def test_pin_queues_the_sms_and_its_otp_logs_in(core: Core, gateway: str) -> None:
    serial = core.enroll("alice", type="sms", phone="+49 170 1234", pin="1234", **{"sms.identifier": gateway})
    assert serial.startswith("PISM")
    core.settings(token_texts=(("smstext", "Code for {username}@{userrealm} ({tokentype} {serial}): {otp}"),
                               ("sms_challenge_text", "Type the code from the SMS")))
    result = core.check("1234")
    assert result.outcome is Outcome.CHALLENGE and result.message == "Type the code from the SMS"
    (challenge,) = result.challenges
    (message,) = queued(core)
    assert message.channel == "sms:gw1" and message.recipient == "+49 170 1234"
    assert message.transaction_id == challenge.transaction_id and message.serial == serial
    otp = otp_of(message)
    assert message.payload["text"] == f"Code for alice@example (sms {serial}): {otp}"
    assert core.check(otp, transaction_id=challenge.transaction_id).outcome is Outcome.ACCEPT
    assert core.check(otp, transaction_id=challenge.transaction_id).outcome is Outcome.REJECT
    # PIN and OTP in one request: the value of the next SMS, asked for by the PIN.
    core.check("1234")
    (second,) = queued(core)
    assert core.check("1234" + otp_of(second)).outcome is Outcome.ACCEPT


@pytest.mark.policy_action("authentication", "smstext")
@pytest.mark.policy_action("authentication", "sms_challenge_text")
def test_default_text_and_message(core: Core, gateway: str) -> None:
    serial = core.enroll("alice", type="sms", phone="0170123", pin="1234", **{"sms.identifier": gateway})
    result = core.check("1234")
    assert result.message == "Enter the OTP from the SMS:"
    (message,) = queued(core)
    assert message.payload["text"].isdigit() and len(message.payload["text"]) == 6
    core.settings(token_texts=(("smstext", "<otp> is your code for <serial>"),))
    core.check("1234")
    (message,) = queued(core)
    otp, rest = message.payload["text"].split(" ", 1)
    assert otp.isdigit() and rest == f"is your code for {serial}"


def test_dynamic_phone_comes_from_the_user_store(core: Core, gateway: str, tmp_path: Path) -> None:
    core.system(**{"sms.identifier": gateway})
    core.enroll("alice", type="sms", dynamic_phone="1", pin="1234")
    (tmp_path / "passwd").write_text(PASSWD.replace("Alice Liddell,,,", "Alice Liddell,,+3312345,"))
    assert core.check("1234").outcome is Outcome.CHALLENGE
    (message,) = queued(core)
    assert message.recipient == "+3312345" and message.channel == "sms:gw1"


def test_validity_from_the_system_setting(core: Core, gateway: str) -> None:
    core.system(**{"sms.validtime": "600"})
    core.enroll("alice", type="sms", phone="0170123", pin="1234", **{"sms.identifier": gateway})
    (challenge,) = core.check("1234").challenges
    with core.database.session() as session:
        row = session.scalars(select(Challenge)).one()
        assert (row.expires_at - row.created_at).total_seconds() == 600
    assert challenge.transaction_id


def test_no_number_or_no_gateway_queues_nothing(core: Core, gateway: str) -> None:
    core.enroll("alice", type="sms", dynamic_phone="1", pin="1234", **{"sms.identifier": gateway})
    core.enroll("bob", type="sms", phone="0170123", pin="1234")
    for user in ("alice", "bob"):
        result = core.check("1234", user=user)
        assert result.outcome is Outcome.CHALLENGE
        assert result.message == "The PIN was correct, but the SMS could not be sent!"
    with core.database.session() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


@pytest.mark.parametrize("params", [{}, {"phone": "-rf"}, {"phone": "1" * 40}, {"phone": "12345", "otplen": "7"}])
def test_bad_enrollment_is_refused(core: Core, params: dict[str, Any]) -> None:
    with pytest.raises(ParameterError):
        core.enroll("alice", type="sms", **params)


def test_an_admin_triggered_challenge_sends_the_sms_too(core: Core, gateway: str) -> None:
    serial = core.enroll("alice", type="sms", phone="0170123", pin="1234", **{"sms.identifier": gateway})
    with core.database.session() as session:
        result = core.auth.trigger_challenges(session, AuthRequest(password="", serial=serial))
        session.commit()
    assert result.outcome is Outcome.CHALLENGE
    (message,) = queued(core)
    assert message.transaction_id == result.challenges[0].transaction_id
    answer = core.check(message.payload["text"], user=None, serial=serial,
                        transaction_id=result.challenges[0].transaction_id)
    assert answer.outcome is Outcome.ACCEPT
