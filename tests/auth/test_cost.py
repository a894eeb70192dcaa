"""What a request costs: the same kind of work whether the user exists or not, and one
token UPDATE per successful PIN+OTP login (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from tesserad.core.auth.request import Outcome
from tesserad.core.tokens import oath
from tesserad.core.users.base import UserError

from tests.wired import RFC4226, RFC_SEED_HEX, Core


@contextmanager
def statements(core: Core) -> Iterator[list[str]]:
    """The SQL statements the database sees meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(core.database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(core.database.engine, "before_cursor_execute", record)


@pytest.fixture
def decoys(core: Core, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords the engine spent a decoy OTP window on."""
    spent: list[str] = []
    engine = core.auth.engine
    decoy = engine._decoy

    def spy(password: str) -> None:
        spent.append(password)
        decoy(password)

    monkeypatch.setattr(engine, "_decoy", spy)
    return spent


@pytest.fixture
def hashes(core: Core, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The slow PIN hash verifications the engine ran (real or decoy)."""
    spent: list[str] = []
    hasher = core.auth.engine.hasher
    for name in ("verify", "verify_nothing"):
        real = getattr(hasher, name)

        def spy(*args: str, _real: Any = real) -> bool:
            spent.append(args[-1])
            return bool(_real(*args))

        monkeypatch.setattr(hasher, name, spy)
    return spent


def test_an_unknown_user_costs_a_token_query_and_an_otp_window(core: Core, decoys: list[str],
                                                                 hashes: list[str]) -> None:
    with statements(core) as seen, pytest.raises(UserError):
        core.check("guess123456", user="mallory")
    assert decoys == ["guess123456"] and hashes == []
    assert any(s.startswith("SELECT token.id") and "token_owner" in s for s in seen)


def test_a_user_without_tokens_costs_an_otp_window(core: Core, decoys: list[str], hashes: list[str]) -> None:
    assert core.check("guess123456", user="bob").message == "The user has no tokens assigned"
    assert decoys == ["guess123456"] and hashes == []


def test_no_decoy_where_the_answer_does_its_own_work(core: Core, decoys: list[str]) -> None:
    core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    assert core.check("1234" + RFC4226[0]).accepted
    assert core.check("1234000000").outcome is Outcome.REJECT
    core.settings(pass_on_no_user=True, pass_on_no_token=True)
    assert core.check("x", user="mallory").accepted and core.check("x", user="bob").accepted
    assert decoys == []


def test_a_wrong_otp_costs_no_pin_hash(core: Core, hashes: list[str]) -> None:
    """The flood defence: a hashed PIN is verified only behind a matching OTP."""
    serial = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    outside_window = oath.hotp(bytes.fromhex(RFC_SEED_HEX), 20)
    for guess in ("1234000000", "9999000000", "1234" + outside_window):
        result = core.check(guess)
        assert (result.outcome, result.message) == (Outcome.REJECT, "wrong otp pin or otp value")
    assert hashes == [] and core.token(serial).failcount == 3
    assert core.check("9999" + RFC4226[0]).message == "wrong otp pin"
    assert core.check("1234" + RFC4226[0]).accepted
    assert hashes == ["9999", "1234"]
    assert core.check("1234" + RFC4226[0]).message == "wrong otp pin or otp value. previous otp used again"


def test_a_cheap_pin_keeps_the_two_messages(core: Core, hashes: list[str]) -> None:
    core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234", encryptpin=True)
    assert core.check("1234000000").message == "wrong otp value"
    assert core.check("9999000000").message == "wrong otp pin"
    assert hashes == []


def test_a_login_writes_the_token_row_once(core: Core) -> None:
    serial = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    totp = core.enroll("bob", type="totp", otpkey=RFC_SEED_HEX, pin="1234")
    spass = core.enroll("carol", type="spass", pin="1234")
    now_step = oath.time_step(core.clock.now(), 30)
    for user, password in (("alice", "1234" + RFC4226[0]), ("carol", "1234"),
                           ("bob", "1234" + oath.hotp(b"12345678901234567890", now_step))):
        with statements(core) as seen:
            assert core.check(password, user=user).accepted
        assert len([s for s in seen if s.startswith("UPDATE token ")]) == 1, seen
    token = core.token(serial)
    assert (token.count, token.failcount, token.count_auth, token.count_auth_success) == (1, 0, 1, 1)
    assert token.last_auth_at is not None and token.last_auth_at.timestamp() == core.clock.now()
    assert core.token(totp).count == now_step + 1
    assert (core.token(spass).count_auth_success, core.token(spass).count) == (1, 0)


def test_no_auth_counter_leaves_the_counters(core: Core) -> None:
    serial = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    core.system(no_auth_counter=True)
    assert core.check("1234" + RFC4226[0]).accepted
    token = core.token(serial)
    assert (token.count, token.count_auth, token.count_auth_success) == (1, 0, 0)
    assert token.last_auth_at is not None


def test_reset_all_user_tokens(core: Core) -> None:
    first = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")
    second = core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="9999")
    core.check("0000000000")
    assert core.check("1234" + RFC4226[0]).accepted
    assert (core.token(first).failcount, core.token(second).failcount) == (0, 1)
    core.settings(reset_all_user_tokens=True)
    core.check("0000000000")
    assert core.check("1234" + RFC4226[1]).accepted
    assert (core.token(first).failcount, core.token(second).failcount) == (0, 0)
