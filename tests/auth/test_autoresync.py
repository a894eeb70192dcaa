"""AutoResync during /validate/check, through the public engine (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from tesserad.core.auth import resync
from tesserad.core.auth.request import Outcome
from tesserad.core.store.models import Challenge
from tesserad.core.tokens import oath
from tesserad.core.tokens.base import ParameterError

from tests.wired import RFC_SEED_HEX, Core

KEY = b"12345678901234567890"


def value(counter: int) -> str:
    return "1234" + oath.hotp(KEY, counter)


@pytest.fixture
def serial(core: Core) -> str:
    core.system(AutoResync=True)
    return core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1234")


def test_two_consecutive_values_in_the_sync_window_resync(core: Core, serial: str) -> None:
    first = core.check(value(500))
    assert (first.outcome, first.message) == (Outcome.REJECT, "wrong otp value")
    assert core.token(serial).failcount == 1
    second = core.check(value(501))
    assert (second.outcome, second.serial) == (Outcome.ACCEPT, serial)
    token = core.token(serial)
    assert (token.count, token.failcount) == (502, 0)
    assert core.check(value(501)).message == "wrong otp pin or otp value. previous otp used again"
    assert core.check(value(502)).accepted  # the normal window again


def test_without_autoresync_nothing_is_remembered(core: Core, serial: str) -> None:
    core.system(AutoResync=False)
    assert core.check(value(500)).outcome is Outcome.REJECT
    assert core.check(value(501)).outcome is Outcome.REJECT
    assert core.token(serial).count == 0
    with core.database.session() as session:
        assert session.scalars(select(Challenge)).all() == []


def test_the_pair_must_be_consecutive_timely_right_pinned_and_in_the_sync_window(core: Core, serial: str) -> None:
    assert core.check(value(500)).outcome is Outcome.REJECT
    assert core.check(value(502)).outcome is Outcome.REJECT  # not the next one: 502 is remembered now
    assert core.check(value(503)).accepted  # ... so 503 follows it
    core.check(value(600))
    core.clock.advance(301)  # AutoResyncTimeout is 300 s
    assert core.check(value(601)).outcome is Outcome.REJECT
    core.check("0000" + oath.hotp(KEY, 700))  # a wrong PIN is not remembered
    assert core.check(value(701)).outcome is Outcome.REJECT
    core.check(value(504 + 1000))  # beyond the sync window of 1000
    assert core.check(value(505 + 1000)).outcome is Outcome.REJECT
    assert core.token(serial).count == 504


def test_the_timeout_is_a_system_setting(core: Core, serial: str) -> None:
    core.system(AutoResyncTimeout=30)
    core.check(value(500))
    core.clock.advance(31)
    assert core.check(value(501)).outcome is Outcome.REJECT
    core.clock.advance(29)
    assert core.check(value(502)).accepted  # 501 was remembered 29 s ago


def test_the_remembered_value_is_no_transaction_a_client_can_answer(core: Core, serial: str) -> None:
    core.check(value(500))
    with core.database.session() as session:
        rows = session.scalars(select(Challenge)).all()
    assert [(r.transaction_id, r.serial, r.data) for r in rows] == [(resync.MARK, serial, "500")]
    with pytest.raises(ParameterError, match="transaction_id"):
        core.check(oath.hotp(KEY, 501), transaction_id=resync.MARK)


def test_the_second_value_fired_concurrently_is_accepted_once(core: Core, serial: str) -> None:
    core.check(value(500))
    start = threading.Barrier(10)

    def attempt(_: int) -> Outcome:
        start.wait()
        return core.check(value(501)).outcome

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert outcomes.count(Outcome.ACCEPT) == 1
    assert core.token(serial).count == 502


def test_totp_resyncs_and_follows_the_drift(core: Core) -> None:
    core.system(AutoResync=True)
    serial = core.enroll("alice", type="totp", otpkey=RFC_SEED_HEX, pin="1234")
    step = oath.time_step(core.clock.now(), 30) + 240  # the token's clock is 2 hours fast
    assert core.check("1234" + oath.hotp(KEY, step)).outcome is Outcome.REJECT
    assert core.check("1234" + oath.hotp(KEY, step + 1)).accepted
    assert core.token_info(serial, "timeShift") == str(241 * 30)


# ---- resync_via_multichallenge ---------------------------------------------------------------


@pytest.fixture
def by_challenge(core: Core, serial: str) -> str:
    core.settings(resync_via_multichallenge=True)
    return serial


def test_the_first_value_opens_a_challenge_the_next_value_alone_answers(core: Core, by_challenge: str) -> None:
    opened = core.check(value(500))
    assert (opened.outcome, opened.message, opened.serial) == (Outcome.CHALLENGE, resync.CHALLENGE_TEXT,
                                                               by_challenge)
    [issued] = opened.challenges
    assert core.token(by_challenge).count == 0
    answered = core.check(oath.hotp(KEY, 501), transaction_id=issued.transaction_id)
    assert (answered.outcome, answered.message) == (Outcome.ACCEPT, "Found matching challenge")
    assert (core.token(by_challenge).count, core.token(by_challenge).failcount) == (502, 0)
    again = core.check(oath.hotp(KEY, 502), transaction_id=issued.transaction_id)
    assert again.outcome is Outcome.REJECT  # the transaction is used up
    assert core.check(value(502)).accepted  # the normal window again


def test_only_the_following_value_answers_and_it_must_come_in_time(core: Core, by_challenge: str) -> None:
    tid = core.check(value(500)).challenges[0].transaction_id
    wrong = core.check(oath.hotp(KEY, 502), transaction_id=tid)
    assert (wrong.outcome, wrong.message) == (Outcome.REJECT, "Response did not match the challenge.")
    assert core.check(value(501), transaction_id=tid).outcome is Outcome.REJECT  # the PIN is not asked again
    assert core.token(by_challenge).failcount == 2
    core.clock.advance(301)  # AutoResyncTimeout
    assert core.check(oath.hotp(KEY, 501), transaction_id=tid).outcome is Outcome.REJECT
    assert core.token(by_challenge).count == 0


def test_no_challenge_for_a_wrong_pin_a_far_value_or_without_autoresync(core: Core, by_challenge: str) -> None:
    assert core.check("0000" + oath.hotp(KEY, 500)).message == "wrong otp pin"
    assert core.check(value(5000)).outcome is Outcome.REJECT  # beyond the sync window
    core.system(AutoResync=False)
    assert core.check(value(500)).outcome is Outcome.REJECT
    with core.database.session() as session:
        assert session.scalars(select(Challenge)).all() == []


def test_the_answer_fired_concurrently_is_accepted_once(core: Core, by_challenge: str) -> None:
    tid = core.check(value(500)).challenges[0].transaction_id
    start = threading.Barrier(10)

    def attempt(_: int) -> Outcome:
        start.wait()
        return core.check(oath.hotp(KEY, 501), transaction_id=tid).outcome

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert outcomes.count(Outcome.ACCEPT) == 1
    assert core.token(by_challenge).count == 502
