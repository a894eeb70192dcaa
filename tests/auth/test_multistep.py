"""Multi-step challenges through the public engine: indexedsecret_count and multichallenge,
question_number > 1 (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from tesserad.core.auth.request import AuthResult, Outcome

from tests.wired import Core

SECRET = "correcthorsebatterystaple"
QUESTIONS = {"First pet?": "Rex", "Mother's maiden name?": "Smith", "City of birth?": "Bremen",
             "Favourite colour?": "blue", "First car?": "Beetle"}


def positions(result: AuthResult) -> list[int]:
    assert result.outcome is Outcome.CHALLENGE, result.message
    attributes = result.challenges[0].attributes
    assert attributes is not None
    return list(attributes["random_positions"])


def characters(asked: list[int]) -> str:
    return "".join(SECRET[p - 1] for p in asked)


def test_indexedsecret_count_policy_reaches_the_challenge(core: Core) -> None:
    core.enroll("alice", type="indexedsecret", otpkey=SECRET, pin="1234")
    assert len(positions(core.check("1234"))) == 2  # the default
    core.settings(indexedsecret_count=5)
    challenge = core.check("1234")
    asked = positions(challenge)
    assert len(asked) == 5
    assert core.check(characters(asked), transaction_id=challenge.transaction_id).accepted


def test_indexedsecret_multichallenge_asks_each_position_in_turn(core: Core) -> None:
    serial = core.enroll("alice", type="indexedsecret", otpkey=SECRET, pin="1234")
    with core.database.session() as session:
        core.tokens.set_info(session, serial, "multichallenge", "1")
        session.commit()
    core.settings(indexedsecret_count=3)
    result = core.check("1234")
    tid = result.transaction_id
    for _ in range(2):
        (position,) = positions(result)
        assert result.message == f"Please enter the positions {position} from your secret."
        result = core.check(SECRET[position - 1], transaction_id=tid)
        assert result.transaction_id == tid and result.serial == serial
    (position,) = positions(result)
    assert core.check("?", transaction_id=tid).message == "Response did not match the challenge."
    done = core.check(SECRET[position - 1], transaction_id=tid)
    assert (done.outcome, done.message) == (Outcome.ACCEPT, "Found matching challenge")
    token = core.token(serial)
    assert (token.failcount, token.count_auth_success) == (0, 1)  # the wrong answer's count is cleared
    assert core.check(SECRET[position - 1], transaction_id=tid).outcome is Outcome.REJECT


def test_question_number_asks_several_different_questions(core: Core) -> None:
    core.enroll("alice", type="question", questions=json.dumps(QUESTIONS), pin="1234")
    core.settings(question_number=3)
    first = core.check("1234")
    tid = first.transaction_id
    second = core.check(QUESTIONS[first.message], transaction_id=tid)
    assert second.outcome is Outcome.CHALLENGE and second.transaction_id == tid
    assert core.check(QUESTIONS[first.message], transaction_id=tid).outcome is Outcome.REJECT  # a step is used once
    third = core.check(QUESTIONS[second.message], transaction_id=tid)
    assert third.outcome is Outcome.CHALLENGE
    assert len({first.message, second.message, third.message}) == 3
    assert core.check(QUESTIONS[third.message], transaction_id=tid).accepted


def test_a_step_answered_concurrently_goes_on_once(core: Core) -> None:
    core.enroll("alice", type="question", questions=json.dumps(QUESTIONS), pin="1234")
    core.settings(question_number=2)
    first = core.check("1234")
    start = threading.Barrier(10)

    def answer(_: int) -> Outcome:
        start.wait()
        return core.check(QUESTIONS[first.message], transaction_id=first.transaction_id).outcome

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(answer, range(10)))
    assert outcomes.count(Outcome.CHALLENGE) == 1
    assert outcomes.count(Outcome.REJECT) == 9
