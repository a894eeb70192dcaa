"""Day password: a TOTP value per (long) step that may be used again within its step."""

from __future__ import annotations

import pytest

from tesserad.core.clock import FixedClock
from tesserad.core.store import Database
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError, TokenEnv
from tesserad.core.tokens.daypassword import parse_time_step

from tests.tokens.conftest import Enroll, load

SEED20 = b"12345678901234567890"
DAY = 86400


@pytest.mark.parametrize("text, seconds", [("1d", DAY), ("24h", DAY), ("30m", 1800), ("90s", 90),
                                           ("3600", 3600), (" 2D ", 2 * DAY)])
def test_time_step_syntax(text: str, seconds: int) -> None:
    assert parse_time_step(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "1w", "-1d", "1.5h", "d"])
def test_time_step_refuses_nonsense(text: str) -> None:
    with pytest.raises(ParameterError):
        parse_time_step(text)


def test_daypassword_defaults_and_uri(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("daypassword", {"otpkey": SEED20.hex()})
    assert serial.startswith("DayPasswordToken")
    assert "period=86400" in detail["googleurl"]["value"]
    with database.session() as session:
        token = load(session, env, serial)
        assert token.info("timeStep") == "1d"
        assert token.step == DAY
    serial, _ = enroll("daypassword", {"otpkey": SEED20.hex()}, extra={"daypassword.timeStep": "12h"})
    with database.session() as session:
        assert load(session, env, serial).step == 43200
    with pytest.raises(ParameterError):
        enroll("daypassword", {"otpkey": SEED20.hex(), "timeStep": "soon"})


@pytest.mark.both_backends
def test_daypassword_is_reusable_within_its_step_only(database: Database, env: TokenEnv, enroll: Enroll,
                                                       clock: FixedClock) -> None:
    serial, _ = enroll("daypassword", {"otpkey": SEED20.hex(), "timeStep": "24h"})
    clock.set(DAY * 20000 + 100)  # early in a day
    today = oath.hotp(SEED20, 20000)
    for _ in range(3):
        with database.session() as session:
            token = load(session, env, serial)
            assert token.check_otp(today) == 20000
            assert token.consume(session, 20000) is True
            assert token.previously_used(today) is False
            session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.count == 20000
        assert token.check_otp(oath.hotp(SEED20, 20001)) == -1  # no window: tomorrow's is not yet valid
        assert token.check_otp(oath.hotp(SEED20, 19999)) == -1
    clock.set(DAY * 20001)
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_otp(today) == -1  # yesterday's value is over
        assert token.consume(session, token.check_otp(oath.hotp(SEED20, 20001))) is True
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.consume(session, 20000) is False  # the counter never goes back
        clock.set(DAY * 20000 + 5)  # and a clock set back does not reopen an older day
        assert token.check_otp(today) == -1


@pytest.mark.both_backends
def test_daypassword_concurrent_uses_of_one_step_both_succeed(database: Database, env: TokenEnv,
                                                             enroll: Enroll, clock: FixedClock) -> None:
    serial, _ = enroll("daypassword", {"otpkey": SEED20.hex(), "timeStep": "30m"})
    step = int(clock.now()) // 1800
    value = oath.hotp(SEED20, step)
    with database.session() as first, database.session() as second:
        a, b = load(first, env, serial), load(second, env, serial)
        assert a.check_otp(value) == b.check_otp(value) == step
        assert a.consume(first, step) is True
        first.commit()
        assert b.consume(second, step) is True
        second.commit()


def test_daypassword_has_no_resync(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("daypassword", {"otpkey": SEED20.hex()})
    with database.session() as session:
        token = load(session, env, serial)
        assert token.resync(oath.hotp(SEED20, 1), oath.hotp(SEED20, 2)) is None
