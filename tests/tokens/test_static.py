"""Types without a moving value: spass, pw, and the single-use registration code."""

from __future__ import annotations

import string

import pytest
from sqlalchemy import func, select

from tesserad.core.store import Database
from tesserad.core.store.models import Token, TokenInfo
from tesserad.core.tokens.base import ParameterError, TokenEnv
from tesserad.core.tokens.registration import CONTENT_GROUPS, generate_code, parse_contents
from tesserad.core.tokens.registry import load_all, token_class

from tests.tokens.conftest import Enroll, load


def test_registry_names_and_serial_prefixes() -> None:
    types = load_all()
    expected = {"hotp": "OATH", "totp": "TOTP", "spass": "PISP", "pw": "PW", "registration": "REG",
                "paper": "PPR", "tan": "PITN", "motp": "PIMO", "daypassword": "DayPasswordToken",
                "indexedsecret": "PIIX", "yubikey": "UBAM", "question": "QUST"}
    assert {name: types[name].prefix for name in expected} == expected
    assert token_class("HOTP") is types["hotp"]
    with pytest.raises(ParameterError):
        token_class("nosuchtype")


# ---- spass -------------------------------------------------------------------------------

def test_spass_has_no_otp_and_is_never_used_up(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("spass", {"pin": "ignored here"})
    assert detail == {}
    with database.session() as session:
        token = load(session, env, serial)
        assert token.split_pin("mypin") == ("mypin", "")
        assert token.check_otp("") == 0
        assert token.check_otp("123456") == -1
        assert token.consume(session, 0) and token.consume(session, 0)
        assert token.row.count == 0


# ---- pw ----------------------------------------------------------------------------------

def test_pw_given_password(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("pw", {"otpkey": "Tr0ub4dor"})
    assert "password" not in detail
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.otplen == 9
        assert token.split_pin("1234Tr0ub4dor") == ("1234", "Tr0ub4dor")
        assert token.check_otp("Tr0ub4dor") == 0
        assert token.check_otp("tr0ub4dor") == -1
        assert token.consume(session, 0) and token.check_otp("Tr0ub4dor") == 0  # reusable
        assert b"Tr0ub4dor" not in (token.row.secret_enc or b"")


def test_pw_generated_password(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("pw", {"genkey": "1"})
    password = detail["password"]
    assert len(password) == 12 and not set(password) & set("0OIl1")
    with database.session() as session:
        assert load(session, env, serial).check_otp(password) == 0
    _, detail = enroll("pw", {"genkey": "1"}, extra={"pw.length": "20"})
    assert len(detail["password"]) == 20
    with pytest.raises(ParameterError):
        enroll("pw", {})


# ---- registration --------------------------------------------------------------------------

def test_registration_code_defaults(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("registration", {"otpkey": "chosen-by-caller"})
    code = detail["registrationcode"]
    assert len(code) == 24 and set(code) <= set(string.ascii_letters + string.digits)
    assert set(code) & set(string.ascii_letters) and set(code) & set(string.digits)
    assert serial.startswith("REG")
    with database.session() as session:
        token = load(session, env, serial)
        assert token.row.otplen == 24
        assert token.check_otp("chosen-by-caller") == -1  # the caller cannot choose the code
        assert token.check_otp(code) == 0
        assert token.check_otp(code[:-1] + ("a" if code[-1] != "a" else "b")) == -1
        assert token.user_enrollable is False


def test_registration_length_and_contents(enroll: Enroll) -> None:
    _, detail = enroll("registration", {"registration.length": "10", "registration.contents": "n"})
    assert len(detail["registrationcode"]) == 10 and detail["registrationcode"].isdigit()
    _, detail = enroll("registration", {}, extra={"registration.length": "12"})
    assert len(detail["registrationcode"]) == 12
    with pytest.raises(ParameterError):
        enroll("registration", {"registration.length": "0"})
    with pytest.raises(ParameterError):
        enroll("registration", {"registration.contents": "x"})


def test_contents_syntax() -> None:
    assert parse_contents("cn") == (string.ascii_letters + string.digits,
                                    [CONTENT_GROUPS["c"], CONTENT_GROUPS["n"]])
    alphabet, required = parse_contents("+cn")
    assert required == [] and set(alphabet) == set(string.ascii_letters + string.digits)
    alphabet, required = parse_contents("-s")
    assert required == [] and not set(alphabet) & set(CONTENT_GROUPS["s"]) and "a" in alphabet
    assert parse_contents("[123]") == ("123", ["123"])
    for _ in range(20):
        code = generate_code(3, "cns")
        assert {g for g in "cns" if set(code) & set(CONTENT_GROUPS[g])} == {"c", "n", "s"}
    assert set(generate_code(50, "[ab]")) <= {"a", "b"}
    with pytest.raises(ParameterError):
        generate_code(2, "cns")  # too short to hold one of each group
    with pytest.raises(ParameterError):
        parse_contents("[")


@pytest.mark.both_backends
def test_registration_is_single_use_and_deletes_itself(database: Database, env: TokenEnv,
                                                       enroll: Enroll) -> None:
    serial, detail = enroll("registration", {})
    code = detail["registrationcode"]
    with database.session() as first, database.session() as second:
        a, b = load(first, env, serial), load(second, env, serial)
        assert a.check_otp(code) == b.check_otp(code) == 0
        assert a.consume(first, 0) is True
        a.post_success(first)
        first.commit()
        assert b.consume(second, 0) is False  # the concurrent second use fails
        second.commit()
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Token).where(Token.serial == serial)) == 0
        assert session.scalar(select(func.count()).select_from(TokenInfo)) == 0


@pytest.mark.both_backends
def test_registration_used_but_not_deleted_is_still_spent(database: Database, env: TokenEnv,
                                                          enroll: Enroll) -> None:
    """If the login is refused after consume (say, outside the validity period), the
    code stays spent."""
    serial, detail = enroll("registration", {})
    code = detail["registrationcode"]
    with database.session() as session:
        token = load(session, env, serial)
        assert token.consume(session, token.check_otp(code))
        session.commit()
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_otp(code) == -1
        assert token.previously_used(code) is True
