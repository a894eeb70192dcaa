"""The /validate/check algorithm through the public engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from tesserad.core.auth.request import Outcome
from tesserad.core.store.models import AuditEntry, Challenge
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError, TokenError
from tesserad.core.users.base import UserError

from tests.tokens.fake_yubikey import KEY as YUBIKEY_KEY
from tests.tokens.fake_yubikey import FakeYubikey
from tests.wired import RFC4226, RFC_SEED_HEX, Core


def hotp_for(core: Core, login: str = "alice", pin: str = "1234", **params: object) -> str:
    return core.enroll(login, type="hotp", otpkey=RFC_SEED_HEX, pin=pin, **params)


def test_rfc4226_values_are_each_accepted_once(core: Core) -> None:
    serial = hotp_for(core)
    for value in RFC4226:
        result = core.check("1234" + value)
        assert result.outcome is Outcome.ACCEPT, result.message
        assert (result.message, result.serial, result.token_type) == ("matching 1 tokens", serial, "hotp")
        again = core.check("1234" + value)
        assert again.outcome is Outcome.REJECT
        assert again.message == "wrong otp pin or otp value. previous otp used again"
    assert core.token(serial).count == 10


def test_hotp_window_is_count_window(core: Core) -> None:
    serial = hotp_for(core)
    assert core.check("1234" + RFC4226[9]).outcome is Outcome.ACCEPT  # counter 9 is inside 0..9
    assert core.token(serial).count == 10
    outside = core.enroll("bob", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    value_at_10 = oath.hotp(b"12345678901234567890", 10)
    assert core.check("1234" + value_at_10, user="bob").message == "wrong otp pin or otp value"
    assert core.token(outside).count == 0


@pytest.mark.parametrize("hashlib_name, seed", [
    ("sha1", b"12345678901234567890"),
    ("sha256", b"12345678901234567890123456789012"),
    ("sha512", b"1234567890123456789012345678901234567890123456789012345678901234"),
])
@pytest.mark.parametrize("when, expected", [
    (59, {"sha1": "94287082", "sha256": "46119246", "sha512": "90693936"}),
    (1111111109, {"sha1": "07081804", "sha256": "68084774", "sha512": "25091201"}),
    (1111111111, {"sha1": "14050471", "sha256": "67062674", "sha512": "99943326"}),
    (1234567890, {"sha1": "89005924", "sha256": "91819424", "sha512": "93441116"}),
    (2000000000, {"sha1": "69279037", "sha256": "90698825", "sha512": "38618901"}),
    (20000000000, {"sha1": "65353130", "sha256": "77737706", "sha512": "47863826"}),
])
def test_rfc6238_vectors(core: Core, hashlib_name: str, seed: bytes, when: int, expected: dict[str, str]) -> None:
    core.clock.set(when)
    serial = core.enroll("alice", type="totp", otpkey=seed.hex(), hashlib=hashlib_name, otplen=8, pin="")
    result = core.check(expected[hashlib_name])
    assert result.outcome is Outcome.ACCEPT, result.message
    assert result.serial == serial
    assert core.check(expected[hashlib_name]).message == "wrong otp pin or otp value. previous otp used again"


def test_totp_refuses_older_steps_and_tracks_drift(core: Core) -> None:
    key = b"12345678901234567890"
    serial = core.enroll("alice", type="totp", otpkey=key.hex(), pin="")
    now = core.clock.now()
    ahead = oath.hotp(key, oath.time_step(now, 30) + 3)  # token clock 90 s fast, inside 180 s
    behind = oath.hotp(key, oath.time_step(now, 30) + 1)
    assert core.check(ahead).outcome is Outcome.ACCEPT
    assert core.check(behind).message == "wrong otp pin or otp value. previous otp used again"
    # The accepted value moved timeShift to +90 s: the window now centres 3 steps ahead.
    assert core.token_info(serial, "timeShift") == "90"
    inside = oath.hotp(key, oath.time_step(now, 30) + 9)
    outside = oath.hotp(key, oath.time_step(now, 30) + 10)
    assert core.check(outside).message == "wrong otp pin or otp value"
    assert core.check(inside).outcome is Outcome.ACCEPT


def test_wrong_pin_counts_on_every_token_and_wrong_otp_only_on_pin_matches(core: Core) -> None:
    """The spec's two messages, with PINs cheap to check (a hashed PIN: test_cost.py)."""
    first = hotp_for(core, pin="1234", encryptpin=True)
    second = hotp_for(core, pin="9999", encryptpin=True)
    wrong_pin = core.check("0000" + RFC4226[0])
    assert (wrong_pin.outcome, wrong_pin.message) == (Outcome.REJECT, "wrong otp pin")
    assert (core.token(first).failcount, core.token(second).failcount) == (1, 1)
    wrong_otp = core.check("1234000000")
    assert wrong_otp.message == "wrong otp value" and wrong_otp.serial == first
    assert (core.token(first).failcount, core.token(second).failcount) == (2, 1)
    assert core.check("1234" + RFC4226[0]).outcome is Outcome.ACCEPT
    assert core.token(first).failcount == 0


def test_fail_counter_locks_and_the_clear_timeout_unlocks(core: Core) -> None:
    serial = hotp_for(core)
    for _ in range(12):
        core.check("1234000000")
    token = core.token(serial)
    assert token.failcount == 10 and token.failcount_exceeded_at is not None
    locked = core.check("1234" + RFC4226[0])
    assert locked.outcome is Outcome.REJECT and "Failcounter exceeded" in locked.message
    core.system(failcounter_clear_timeout=5)
    core.clock.advance(4 * 60)
    assert "Failcounter exceeded" in core.check("1234" + RFC4226[1]).message
    core.clock.advance(61)
    assert core.check("1234" + RFC4226[2]).outcome is Outcome.ACCEPT
    assert core.token(serial).failcount == 0


def test_disabled_and_revoked_tokens(core: Core) -> None:
    serial = hotp_for(core)
    with core.database.session() as session:
        core.tokens.enable(session, serial, False)
        session.commit()
    assert "Token is disabled" in core.check("1234" + RFC4226[0]).message
    with core.database.session() as session:
        core.tokens.revoke(session, serial)
        session.commit()
    with pytest.raises(TokenError, match="token is locked"):
        core.check("1234" + RFC4226[1])


def test_challenge_response_round_trip(core: Core) -> None:
    serial = hotp_for(core)
    assert core.check("1234").message == "wrong otp pin or otp value"  # no challenge without the policy
    core.settings(challenge_response=frozenset({"hotp"}))
    challenge = core.check("1234")
    assert challenge.outcome is Outcome.CHALLENGE
    tid = challenge.transaction_id
    assert tid is not None and len(tid) == 20 and tid.isdigit()
    assert [c.serial for c in challenge.challenges] == [serial]
    assert challenge.message == "please enter otp: "
    answer = core.check(RFC4226[0], transaction_id=tid)
    assert (answer.outcome, answer.message) == (Outcome.ACCEPT, "Found matching challenge")
    reused = core.check(RFC4226[1], transaction_id=tid)
    assert reused.outcome is Outcome.REJECT


def test_a_wrong_answer_counts_and_an_expired_challenge_is_refused(core: Core) -> None:
    serial = hotp_for(core)
    core.settings(challenge_response=frozenset({"hotp"}))
    tid = core.check("1234").transaction_id
    wrong = core.check("000000", transaction_id=tid)
    assert wrong.message == "Response did not match the challenge."
    assert core.token(serial).failcount == 1
    core.clock.advance(121)
    assert core.check(RFC4226[0], transaction_id=tid).outcome is Outcome.REJECT
    with core.database.session() as session:
        assert session.scalars(select(Challenge)).all() != []  # expired rows wait for the janitor


def test_one_transaction_for_several_challenge_tokens(core: Core) -> None:
    first = hotp_for(core)
    second = core.enroll("alice", type="totp", otpkey=RFC_SEED_HEX, pin="1234")
    core.settings(challenge_response=frozenset({"hotp", "totp"}))
    result = core.check("1234")
    assert {c.serial for c in result.challenges} == {first, second}
    assert len({c.transaction_id for c in result.challenges}) == 1
    assert core.check(RFC4226[0], transaction_id=result.transaction_id).serial == first


def test_otppin_userstore_and_none(core: Core, tmp_path) -> None:  # type: ignore[no-untyped-def]
    hotp_for(core, pin="ignored")
    core.settings(otppin="none")
    assert core.check(RFC4226[0]).outcome is Outcome.ACCEPT
    core.settings(otppin="userstore")
    assert core.check("whatever" + RFC4226[1]).message == "wrong otp pin"  # passwd has no passwords


def test_users_without_tokens_and_unknown_users(core: Core) -> None:
    assert core.check("x", user="bob").message == "The user has no tokens assigned"
    core.settings(pass_on_no_token=True)
    assert core.check("x", user="bob").outcome is Outcome.ACCEPT
    with pytest.raises(UserError, match="can not be found"):
        core.check("x", user="mallory")
    core.settings(pass_on_no_user=True)
    assert core.check("x", user="mallory").outcome is Outcome.ACCEPT
    with pytest.raises(UserError):
        core.check("x", user="alice", realm="nosuchrealm")


def test_serial_checks(core: Core) -> None:
    serial = hotp_for(core)
    assert core.check("1234" + RFC4226[0], user=None, serial=serial).outcome is Outcome.ACCEPT
    assert core.check(RFC4226[1], user=None, serial=serial, otp_only=True).outcome is Outcome.ACCEPT
    with pytest.raises(ParameterError, match="does not belong"):
        core.check("1234" + RFC4226[2], user="bob", serial=serial)
    with pytest.raises(TokenError, match="does not exist"):
        core.check("1234", user=None, serial="NOSUCH")


def test_malformed_requests_change_nothing(core: Core) -> None:
    serial = hotp_for(core)
    before = core.token(serial)
    for kwargs in ({"password": "1" * 10_000_000}, {"password": "1234", "user": "al\x00ice"},
                   {"password": "1234", "transaction_id": "../../etc"}):
        password = kwargs.pop("password")
        with pytest.raises(ParameterError):
            core.check(password, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="user or serial"):
        core.check("1234", user=None)
    after = core.token(serial)
    assert (after.count, after.failcount, after.count_auth) == (before.count, before.failcount, before.count_auth)


def test_every_request_is_audited_and_signed_without_secrets(core: Core) -> None:
    hotp_for(core, pin="s3cretpin")
    core.check("s3cretpin" + RFC4226[0])
    core.check("s3cretpin000000")
    with pytest.raises(UserError):
        core.check("s3cretpin", user="mallory")
    with core.database.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(r.success, r.authentication) for r in rows] == [(True, "ACCEPT"), (False, "REJECT"), (False, "")]
    assert all(core.auditor.verify(r) for r in rows)
    text = " ".join(str(vars(r)) for r in rows)
    assert "s3cretpin" not in text and RFC4226[0] not in text
    rows[0].info = "tampered"
    assert not core.auditor.verify(rows[0])


def test_the_same_otp_fired_concurrently_is_accepted_once(core: Core) -> None:
    serial = hotp_for(core)
    start = threading.Barrier(50)

    def attempt(_: int) -> Outcome:
        start.wait()
        return core.check("1234" + RFC4226[0]).outcome

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, range(50)))
    assert outcomes.count(Outcome.ACCEPT) == 1
    assert outcomes.count(Outcome.REJECT) == 49
    token = core.token(serial)
    assert (token.count, token.count_auth_success) == (1, 1)  # a replay never counts as a success
    # Every rejection happened after the winner's commit reset the counter; maxfail caps it.
    assert token.failcount == min(49, token.maxfail)


def test_types_that_change_more_than_the_counter(core: Core) -> None:
    """Through the engine's plain token rows: a registration code deletes its token, a TAN
    is used up, a yubikey learns its private uid (tokeninfo written through the ORM)."""
    with core.database.session() as session:
        _, detail = core.tokens.init(session, {"type": "registration"}, core.user("alice"))
        tan, tans = core.tokens.init(session, {"type": "tan", "tans": "111111 222222", "pin": "1"}, core.user("bob"))
        session.commit()
        tan_serial = tan.serial
    code = detail["registrationcode"]
    assert core.check(code).accepted
    assert core.check(code).message == "The user has no tokens assigned"  # the token is gone
    assert core.check("1222222", user="bob").accepted
    assert core.check("1222222", user="bob").outcome is Outcome.REJECT
    assert core.check("1111111", user="bob").accepted
    with core.database.session() as session:
        assert core.tokens.get(session, tan_serial).remaining() == 0
    serial = core.enroll("carol", type="yubikey", otpkey=YUBIKEY_KEY.hex(), pin="")
    device = FakeYubikey()
    assert core.check(device.press(), user="carol").accepted
    assert core.token_info(serial, "yubikey.tokenid") == device.uid.hex()
    assert core.check(FakeYubikey(uid=b"\x09" * 6).press(), user="carol").outcome is Outcome.REJECT
