"""Printed lists: the paper token (HOTP values in order) and TANs (any order, each once)."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from tesserad.core.store import Database
from tesserad.core.store.models import Token, TokenInfo
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError, TokenEnv

from tests.tokens.conftest import Enroll, load

SEED20 = b"12345678901234567890"
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


# ---- paper -------------------------------------------------------------------------------

def test_paper_lists_the_next_values(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("paper", {"otpkey": SEED20.hex()})
    assert serial.startswith("PPR")
    otps = detail["otps"]
    assert len(otps) == 100 and sorted(otps) == list(range(100))
    assert [otps[i] for i in range(10)] == RFC4226
    assert otps[99] == oath.hotp(SEED20, 99)
    # The paper is the token: no seed or QR code to copy it.
    assert not {"googleurl", "oathurl", "otpkey"} & set(detail)


def test_paper_generates_a_key_and_honours_count(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("paper", {"papertoken_count": "5", "otplen": "8"})
    assert len(detail["otps"]) == 5
    with database.session() as session:
        token = load(session, env, serial)
        assert len(token.secret()) == 20
        assert all(token.check_otp(value) == counter for counter, value in detail["otps"].items())
        assert all(len(value) == 8 for value in detail["otps"].values())
    _, detail = enroll("paper", {}, extra={"papertoken_count": "7"})
    assert len(detail["otps"]) == 7
    with pytest.raises(ParameterError):
        enroll("paper", {"papertoken_count": "0"})


@pytest.mark.both_backends
def test_paper_values_are_used_in_order(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("paper", {"otpkey": SEED20.hex(), "papertoken_count": "20"})
    otps = detail["otps"]
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_otp(otps[15]) == -1  # beyond the count window of 10
        assert token.consume(session, token.check_otp(otps[3]))
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_otp(otps[2]) == -1 and token.previously_used(otps[2])
        assert token.check_otp(otps[3]) == -1
        assert token.check_otp(otps[4]) == 4


# ---- TAN ---------------------------------------------------------------------------------

def test_tan_generated_list(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("tan", {})
    tans = detail["otps"]
    assert serial.startswith("PITN")
    assert len(tans) == 100 and len(set(tans.values())) == 100
    assert all(len(tan) == 6 and tan.isdigit() for tan in tans.values())
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.secret_enc is None  # no seed that could regenerate the list
        stored = {item.key: item.value for item in token.row.info if item.key.startswith("tan.tan")}
        assert len(stored) == 100
        assert not set(tans.values()) & set(stored.values())  # only MACs are kept
        assert all(len(value) == 64 and int(value, 16) >= 0 for value in stored.values())
        assert token.check_otp(tans[57]) == 57
        assert token.check_otp(tans[0]) == 0
        assert token.check_otp("1234567") == -1  # wrong length


def test_tan_count_and_length(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    _, detail = enroll("tan", {"tantoken_count": "3", "otplen": "8"})
    assert len(detail["otps"]) == 3 and all(len(t) == 8 for t in detail["otps"].values())
    _, detail = enroll("tan", {}, extra={"tantoken_count": "4"})
    assert len(detail["otps"]) == 4


def test_tan_given_list(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("tan", {"tans": "abc123  def456\nghi789"})
    assert "otps" not in detail  # the caller has the list already
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.otplen == 6
        assert token.split_pin("pinghi789") == ("pin", "ghi789")
        assert [token.check_otp(t) for t in ("def456", "ghi789", "abc123", "abc124")] == [1, 2, 0, -1]
    with pytest.raises(ParameterError):
        enroll("tan", {"tans": "1234 12345"})  # one length for all


@pytest.mark.both_backends
def test_tans_work_in_any_order_once_each(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("tan", {"tantoken_count": "5"})
    tans = detail["otps"]
    for index in (3, 0, 4):
        with database.session() as session:
            token = load(session, env, serial)
            assert token.check_otp(tans[index]) == index
            assert token.consume(session, index) is True
            assert token.remaining() == 5 - [3, 0, 4].index(index) - 1
            assert token.check_otp(tans[index]) == -1  # gone from this request's view too
            session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.remaining() == 2
        assert [token.check_otp(tans[i]) for i in range(5)] == [-1, 1, 2, -1, -1]
        assert token.consume(session, 3) is False
        keys = set(session.scalars(select(TokenInfo.key).join(Token).where(Token.serial == serial)))
        assert {k for k in keys if k.startswith("tan.")} == {"tan.tan1", "tan.tan2"}


@pytest.mark.both_backends
def test_tan_racing_consumers_exactly_one_wins(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("tan", {"tantoken_count": "3"})
    tan = detail["otps"][1]
    barrier = threading.Barrier(3)

    def contender(_: int) -> bool:
        with database.session() as session:
            token = load(session, env, serial)
            matched = token.check_otp(tan)
            assert matched == 1
            barrier.wait(timeout=30)
            won = token.consume(session, matched)
            session.commit()
            return won

    with ThreadPoolExecutor(3) as pool:
        assert sorted(pool.map(contender, range(3))) == [False, False, True]
    with database.session() as session:
        assert load(session, env, serial).remaining() == 2


def test_tan_reinitialization_replaces_the_list(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, first = enroll("tan", {"tantoken_count": "4"})
    with database.session() as session:
        token = load(session, env, serial)
        second = token.enroll({"tantoken_count": "2"})
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.remaining() == 2
        assert all(token.check_otp(t) == -1 for t in first["otps"].values() if t not in second["otps"].values())
        assert [token.check_otp(t) for t in second["otps"].values()] == [0, 1]


def test_tan_imported_from_privacyidea_format(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    """Salted SHA-256 values ("<hex salt>:<sha256(tan + salt)>") keep working after import."""
    serial, _ = enroll("tan", {"tans": "111111"})
    salt = "a1b2c3d4"
    with database.session() as session:
        token = load(session, env, serial)
        token.set_info("tan.tan7", f"{salt}:{hashlib.sha256(b'424242' + salt.encode()).hexdigest()}")
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_otp("424242") == 7
        assert token.check_otp("424243") == -1
        assert token.consume(session, 7) and token.check_otp("424242") == -1
