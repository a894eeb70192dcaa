"""The email token in the engine (SQLite and PostgreSQL): a PIN starts a challenge whose
mail is queued in the challenge's transaction, the mailed OTP answers it once, the
policies shape the mail, and a mail server that is down shows in the challenge message."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tesserad.core import smtp_servers
from tesserad.core.auth.request import AuthRequest, Outcome
from tesserad.core.errors import DeliveryError
from tesserad.core.outbox import Outgoing
from tesserad.core.store.models import Challenge, OutboxMessage
from tesserad.core.tokens.base import ParameterError

from tests.wired import PASSWD, Core


@pytest.fixture
def mailer(core: Core) -> Core:
    with core.database.session() as session:
        smtp_servers.save(session, core.tokens.security, "mail1", server="127.0.0.1", port=25,
                          sender="otp@example.org", username="", password=None, tls=False, implicit_tls=False,
                          timeout=5, enqueue_job=False, description="")
        session.commit()
    core.system(**{"email.identifier": "mail1"})
    return core


def mailed(core: Core) -> list[Outgoing]:
    with core.database.session() as session:
        return core.outbox.claim(session, 100)


def enroll(core: Core, user: str = "alice", **params: str) -> str:
    return core.enroll(user, type="email", pin="1234", **({"email": f"{user}@example.org"} | params))


def test_a_pin_mails_the_otp_and_the_otp_answers_the_challenge_once(mailer: Core) -> None:
    serial = enroll(mailer)
    assert serial.startswith("PIEM")
    challenge = mailer.check("1234")
    assert challenge.outcome is Outcome.CHALLENGE and challenge.message == "Enter the OTP from the Email"
    (issued,) = challenge.challenges
    (mail,) = mailed(mailer)
    assert (mail.channel, mail.recipient, mail.serial) == ("smtp:mail1", "alice@example.org", serial)
    assert mail.transaction_id == issued.transaction_id
    assert mail.payload["subject"] == "Your OTP" and mail.payload["mime"] == "text/plain"
    otp = mail.payload["body"]
    assert len(otp) == 6 and otp.isdigit()
    assert mailer.check("000000" if otp != "000000" else "111111",
                        transaction_id=issued.transaction_id).outcome is Outcome.REJECT
    assert mailer.check(otp, transaction_id=issued.transaction_id).outcome is Outcome.ACCEPT
    again = mailer.check("1234")
    assert mailer.check(otp, transaction_id=again.challenges[0].transaction_id).outcome is Outcome.REJECT
    assert mailer.check("1234" + otp).outcome is Outcome.REJECT


def test_pin_and_mailed_otp_log_in_without_the_transaction(mailer: Core) -> None:
    enroll(mailer)
    mailer.check("1234")
    otp = mailed(mailer)[0].payload["body"]
    assert mailer.check("1234" + otp).outcome is Outcome.ACCEPT
    assert mailer.check("1234" + otp).outcome is Outcome.REJECT


def test_a_challenge_that_rolls_back_queues_no_mail(mailer: Core) -> None:
    enroll(mailer)
    with mailer.database.session() as session:
        result = mailer.auth.engine.check(session, AuthRequest(password="1234", user="alice"))
        assert result.outcome is Outcome.CHALLENGE
        session.rollback()
    with mailer.database.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(func.count()).select_from(Challenge)) == 0


def test_email_validtime_bounds_the_challenge_and_the_mail(mailer: Core) -> None:
    enroll(mailer)
    mailer.system(**{"email.validtime": "300"})
    challenge = mailer.check("1234")
    mailer.clock.advance(301)
    assert mailed(mailer) == []  # expired: given up, not sent
    mailer.clock.advance(-301)
    with mailer.database.session() as session:
        expires = session.scalars(select(Challenge.expires_at)).one()
        assert (expires - challenge.challenges[0].expires_at).total_seconds() == 0


@pytest.mark.policy_action("authentication", "emailtext")
@pytest.mark.policy_action("authentication", "emailsubject")
def test_text_and_subject_policies_fill_privacyideas_tags(mailer: Core) -> None:
    serial = enroll(mailer)
    mailer.settings(token_texts=(("emailtext", "Hello {user} {surname} ({username}@{userrealm}): <otp> for "
                                              "{serial}/{tokentype} at {date} {time}; {unknown} {otp}"),
                                 ("emailsubject", "Code for {givenname}")))
    mailer.check("1234")
    (mail,) = mailed(mailer)
    body = mail.payload["body"]
    otp = body.split(": ")[1].split(" ")[0]
    assert body.startswith(f"Hello Alice Liddell (alice@example): {otp} for {serial}/email at 2023-11-14 22:13:20;")
    assert body.endswith(f"{{unknown}} {otp}")
    assert mail.payload["subject"] == "Code for Alice"


@pytest.mark.policy_action("authentication", "emailtext")
def test_a_file_template_is_sent_as_html(mailer: Core, tmp_path: Path) -> None:
    template = tmp_path / "mail.html"
    template.write_text("<html><style>p { color: red }</style><p>{otp}</p></html>")
    enroll(mailer)
    mailer.settings(token_texts=(("emailtext", f"file:{template}"),))
    mailer.check("1234")
    (mail,) = mailed(mailer)
    assert mail.payload["mime"] == "text/html" and "p { color: red }" in mail.payload["body"]
    assert "{otp}" not in mail.payload["body"]


@pytest.mark.policy_action("authentication", "email_challenge_text")
def test_the_challenge_text_policy(mailer: Core) -> None:
    enroll(mailer)
    mailer.settings(token_texts=(("email_challenge_text", "Check your inbox"),))
    assert mailer.check("1234").message == "Check your inbox"


def test_dynamic_email_reads_the_address_from_the_user_store_at_each_challenge(mailer: Core,
                                                                                 tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    enroll(mailer, "carol", dynamic_email="1", email="")
    for address in ("carol@mail.example.org", "danvers@example.net"):
        passwd.write_text(PASSWD.replace("Carol Danvers,,,", f"Carol Danvers,,,,{address}"))
        assert mailer.check("1234", user="carol").outcome is Outcome.CHALLENGE
        assert [m.recipient for m in mailed(mailer)] == [address]


def test_a_dynamic_address_that_is_missing_says_the_mail_could_not_be_sent(mailer: Core) -> None:
    enroll(mailer, "bob", dynamic_email="1", email="")
    result = mailer.check("1234", user="bob")
    assert result.outcome is Outcome.CHALLENGE
    assert result.message == "The PIN was correct, but the EMail could not be sent!"
    assert mailed(mailer) == []


def test_a_mail_server_that_failed_last_time_shows_in_the_challenge(mailer: Core) -> None:
    enroll(mailer)
    assert mailer.check("1234").message == "Enter the OTP from the Email"
    (mail,) = mailed(mailer)
    with mailer.database.session() as session:
        mailer.outbox.failed(session, mail, DeliveryError("connection refused"))
        session.commit()
    assert mailer.check("1234").message == "The PIN was correct, but the EMail could not be sent!"
    # The mail is queued all the same: it goes out once the server is back.
    mailer.clock.advance(5)
    delivered = mailed(mailer)
    assert len(delivered) == 2
    with mailer.database.session() as session:
        for message in delivered:
            mailer.outbox.delivered(session, message)
        session.commit()
    assert mailer.check("1234").message == "Enter the OTP from the Email"


def test_without_an_smtp_server_the_challenge_says_so(core: Core) -> None:
    enroll(core)
    assert core.check("1234").message == "The PIN was correct, but the EMail could not be sent!"


@pytest.mark.parametrize("params", [{"email": ""}, {"email": "not-an-address"},
                                    {"email": "a@example.org\r\nBcc: eve@example.org"}])
def test_enrollment_needs_one_plain_address(core: Core, params: dict[str, str]) -> None:
    with pytest.raises(ParameterError):
        core.enroll("alice", type="email", **params)


def test_an_admin_triggered_challenge_mails_the_otp_too(mailer: Core) -> None:
    serial = enroll(mailer)
    with mailer.database.session() as session:
        result = mailer.auth.trigger_challenges(session, AuthRequest(password="", serial=serial))
        session.commit()
    assert result.outcome is Outcome.CHALLENGE
    (mail,) = mailed(mailer)
    assert mail.transaction_id == result.challenges[0].transaction_id
    answer = mailer.check(mail.payload["body"], user=None, serial=serial,
                          transaction_id=result.challenges[0].transaction_id)
    assert answer.outcome is Outcome.ACCEPT


@pytest.mark.policy_action("authentication", "emailautosend")
def test_emailautosend_mails_the_next_value_after_a_success(mailer: Core) -> None:
    serial = enroll(mailer)
    mailer.settings(autosend=frozenset({"email"}))
    challenge = mailer.check("1234")
    (first,) = mailed(mailer)
    answer = mailer.check(first.payload["body"], transaction_id=challenge.challenges[0].transaction_id)
    assert answer.outcome is Outcome.ACCEPT
    (following,) = mailed(mailer)
    assert (following.serial, following.transaction_id) == (serial, "")
    assert following.payload["body"] != first.payload["body"]
    # The mailed value logs in with the PIN, no challenge needed, and mails the one after it.
    assert mailer.check("1234" + following.payload["body"]).outcome is Outcome.ACCEPT
    assert len(mailed(mailer)) == 1
    mailer.settings(autosend=frozenset())
    challenge = mailer.check("1234")
    assert len(mailed(mailer)) == 1
