"""mOTP: md5(epoch // 10, init secret, mOTP PIN), a ± 2·count_window step window, no reuse."""

from __future__ import annotations

import hashlib

import pytest

from tesserad.core.clock import FixedClock
from tesserad.core.store import Database
from tesserad.core.tokens.base import ParameterError, TokenEnv
from tesserad.core.tokens.motp import motp_value

from tests.tokens.conftest import Enroll, load

SECRET = "1234567890abcdef"
MOTP_PIN = "1234"


def value(step: int, secret: str = SECRET, pin: str = MOTP_PIN, digits: int = 6) -> str:
    """The definition, written out independently of the module under test."""
    return hashlib.md5(f"{step}{secret}{pin}".encode()).hexdigest()[:digits]


def test_motp_value_definition() -> None:
    # md5("170000000" "1234567890abcdef" "1234") = 660af93b83ae72a6bac461fd68f08cff (md5sum)
    assert motp_value(170000000, SECRET, MOTP_PIN) == "660af9"
    assert motp_value(170000000, SECRET, MOTP_PIN, 8) == "660af93b"
    assert motp_value(170000001, SECRET, MOTP_PIN) == value(170000001)


def test_motp_enrollment_stores_secret_and_pin_encrypted(database: Database, env: TokenEnv,
                                                        enroll: Enroll) -> None:
    serial, detail = enroll("motp", {"otpkey": SECRET, "motppin": MOTP_PIN})
    assert serial.startswith("PIMO") and "motpurl" not in detail
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.otplen == 6
        assert token.row.user_pin_enc is not None and MOTP_PIN.encode() not in token.row.user_pin_enc
        assert token.row.secret_enc is not None and SECRET.encode() not in token.row.secret_enc
        assert token.row.pin_hash is None  # the OTP PIN is separate from the mOTP PIN


@pytest.mark.parametrize("params", [{"otpkey": SECRET}, {"motppin": MOTP_PIN},
                                    {"genkey": "1", "otpkey": SECRET, "motppin": MOTP_PIN}])
def test_motp_enrollment_needs_key_and_motppin(enroll: Enroll, params: dict[str, str]) -> None:
    with pytest.raises(ParameterError):
        enroll("motp", params)


def test_motp_generated_secret(database: Database, env: TokenEnv, enroll: Enroll, clock: FixedClock) -> None:
    serial, detail = enroll("motp", {"genkey": "1", "motppin": "9999", "tokenlabel": "alice"})
    secret = detail["otpkey"]["value"].removeprefix("seed://")
    assert len(secret) == 32 and int(secret, 16) >= 0
    assert detail["motpurl"]["value"] == f"motp://tesserad:alice?secret={secret}"
    assert detail["motpurl"]["img"].startswith("data:image/png;base64,")
    with database.session() as session:
        token = load(session, env, serial)
        now = int(clock.now()) // 10
        assert token.check_otp(value(now, secret, "9999")) == now


def test_motp_window_and_wrong_pin(database: Database, env: TokenEnv, enroll: Enroll, clock: FixedClock) -> None:
    serial, _ = enroll("motp", {"otpkey": SECRET, "motppin": MOTP_PIN})
    now = int(clock.now()) // 10
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.count_window == 10  # so ± 20 steps, 200 seconds
        assert token.check_otp(value(now)) == now
        assert token.check_otp(value(now - 20)) == now - 20
        assert token.check_otp(value(now + 20)) == now + 20
        assert token.check_otp(value(now - 21)) == -1
        assert token.check_otp(value(now + 21)) == -1
        assert token.check_otp(value(now, pin="4321")) == -1
        assert token.check_otp(value(now).upper()) == now  # hex is case-insensitive


@pytest.mark.both_backends
def test_motp_value_is_used_once_and_older_ones_never(database: Database, env: TokenEnv, enroll: Enroll,
                                                     clock: FixedClock) -> None:
    serial, _ = enroll("motp", {"otpkey": SECRET, "motppin": MOTP_PIN, "otplen": "8"})
    now = int(clock.now()) // 10
    with database.session() as session:
        token = load(session, env, serial)
        assert token.consume(session, token.check_otp(value(now, digits=8))) is True
        session.commit()
    with database.session() as first, database.session() as second:
        a, b = load(first, env, serial), load(second, env, serial)
        assert a.row.count == now + 1
        assert a.check_otp(value(now, digits=8)) == -1 and a.previously_used(value(now, digits=8))
        assert a.check_otp(value(now - 3, digits=8)) == -1
        nxt = value(now + 1, digits=8)
        assert a.check_otp(nxt) == b.check_otp(nxt) == now + 1
        assert a.consume(first, now + 1) is True
        first.commit()
        assert b.consume(second, now + 1) is False
