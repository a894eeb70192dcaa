"""Challenge-only types: indexed secret and questionnaire."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tesserad.core.store import Database
from tesserad.core.tokens.base import ChallengeOptions, ParameterError, TokenEnv, TokenError

from tests.tokens.conftest import Enroll, load

SECRET = "mySecret"
QUESTIONS = {"First pet?": "Rex", "Mother's maiden name?": "Smith", "City of birth?": "Bremen",
             "Favourite colour?": "blue", "First car?": "Beetle"}


# ---- indexed secret ----------------------------------------------------------------------

def test_indexedsecret_challenge(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("indexedsecret", {"otpkey": SECRET})
    assert serial.startswith("PIIX") and "otpkey" not in detail
    with database.session() as session:
        token = load(session, env, serial)
        assert token.is_challenge_request(frozenset()) is True  # always, no policy needed
        assert token.check_otp(SECRET) == -1  # no single-shot mode
        for _ in range(20):
            spec = token.create_challenge()
            positions = [int(p) for p in spec.data.split(",")]
            assert len(positions) == 2 and all(1 <= p <= len(SECRET) for p in positions)
            assert spec.message == f"Please enter the positions {spec.data} from your secret."
            assert spec.attributes == {"random_positions": positions}
            answer = "".join(SECRET[p - 1] for p in positions)
            assert token.check_challenge_response(answer, spec.data) == 0
            assert token.check_challenge_response(answer + "x", spec.data) == -1
            assert token.check_challenge_response(SECRET, spec.data) == -1
        assert token.consume(session, 0) is True  # the challenge row is what gets used up


def test_indexedsecret_example_from_the_manual(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("indexedsecret", {"otpkey": SECRET})
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_challenge_response("ye", "2,4") == 0  # "the 2nd and the 4th position"
        assert token.check_challenge_response("yE", "2,4") == -1
        assert token.check_challenge_response("ye", "2,9") == -1  # outside the secret
        assert token.check_challenge_response("ye", "") == -1
        assert token.check_challenge_response("ye", "two,four") == -1


def test_indexedsecret_count_and_text(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("indexedsecret", {"otpkey": SECRET})
    with database.session() as session:
        token = load(session, env, serial)
        spec = token.create_challenge(ChallengeOptions(r"Give me {0!s}\, please", position_count=4))
        assert len(spec.data.split(",")) == 4
        assert spec.message == f"Give me {spec.data}, please"
        # A generic challenge text without the positions tag would hide the positions.
        generic = token.create_challenge(ChallengeOptions("please enter otp: "))
        assert generic.message.startswith("Please enter the positions ")


def test_indexedsecret_multichallenge_asks_one_position_after_the_other(
        database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("indexedsecret", {"otpkey": SECRET})
    with database.session() as session:
        token = load(session, env, serial)
        token.set_info("multichallenge", "1")
        options = ChallengeOptions(position_count=3)
        spec = token.create_challenge(options)
        positions = [int(p) for p in spec.data.partition("/")[0].split(",")]
        assert len(positions) == 3
        for step, position in enumerate(positions):
            assert spec is not None and spec.data.endswith(f"/{step}")
            assert spec.message == f"Please enter the positions {position} from your secret."
            assert spec.attributes == {"random_positions": [position]}
            assert token.check_challenge_response(SECRET[position - 1] + "x", spec.data) == -1
            assert token.check_challenge_response(SECRET[position - 1], spec.data) == 0
            spec = token.next_challenge(spec.data, options)
        assert spec is None  # the last answer completes it
        assert token.next_challenge("2,4", options) is None  # all positions at once: one step
        assert token.check_challenge_response("y", "2,4/2") == -1  # step outside the list


def test_indexedsecret_generated_secret(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, detail = enroll("indexedsecret", {})
    secret = detail["otpkey"]["value"].removeprefix("seed://")
    assert len(secret) == 40
    with database.session() as session:
        token = load(session, env, serial)
        assert token.check_challenge_response(secret[0] + secret[39], "1,40") == 0
        assert token.row.secret_enc is not None and secret.encode() not in token.row.secret_enc


# ---- questionnaire -----------------------------------------------------------------------

def test_questionnaire_challenge_and_answer(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("question", {"questions": json.dumps(QUESTIONS)})
    assert serial.startswith("QUST")
    with database.session() as session:
        token = load(session, env, serial)
        assert token.is_challenge_request(frozenset()) is True
        stored = {item.key: item for item in token.row.info}
        assert all(stored[k].type == "password" and stored[k].value not in QUESTIONS.values()
                   for k in stored if k.startswith("question.a"))
        asked = set()
        for _ in range(60):
            spec = token.create_challenge()
            assert spec.message in QUESTIONS and spec.challenge == spec.message
            asked.add(spec.message)
            assert token.check_challenge_response(QUESTIONS[spec.message], spec.data) == 0
            wrong = next(a for q, a in QUESTIONS.items() if q != spec.message)
            assert token.check_challenge_response(wrong, spec.data) == -1
        assert len(asked) > 1  # questions are chosen at random
        assert token.check_otp("Rex") == -1
        assert token.check_challenge_response("Rex", "99") == -1
        assert token.check_challenge_response("Rex", "x") == -1


def test_questionnaire_needs_enough_answers(enroll: Enroll) -> None:
    few = dict(list(QUESTIONS.items())[:4])
    with pytest.raises(ParameterError, match="at least 5 answers"):
        enroll("question", {"questions": json.dumps(few)})
    serial, _ = enroll("question", {"questions": few}, extra={"question.num_answers": "3"})
    assert serial.startswith("QUST")
    with pytest.raises(ParameterError):
        enroll("question", {"questions": "[1, 2]"})
    with pytest.raises(ParameterError):
        enroll("question", {})


def test_questionnaire_without_questions_cannot_challenge(database: Database, env: TokenEnv,
                                                          enroll: Enroll) -> None:
    serial, _ = enroll("question", {"questions": {}}, extra={"question.num_answers": "0"})
    with database.session() as session, pytest.raises(TokenError):
        load(session, env, serial).create_challenge()


def test_indexedsecret_count_from_system_setting(database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("indexedsecret", {"otpkey": SECRET})
    with database.session() as session:
        row = load(session, env, serial).row
        for extra, policy, expected in (({"indexedsecret.count": "3"}, None, 3),
                                        ({"indexedsecret.count": "junk"}, None, 2),
                                        ({"indexedsecret.count": "3"}, 1, 1)):
            token = type(load(session, env, serial))(row, dataclasses.replace(env, extra=extra))
            assert len(token.create_challenge(ChallengeOptions(position_count=policy)).data.split(",")) == expected


def test_questionnaire_asks_question_number_questions_without_repeating(
        database: Database, env: TokenEnv, enroll: Enroll) -> None:
    serial, _ = enroll("question", {"questions": json.dumps(QUESTIONS)})
    with database.session() as session:
        token = load(session, env, serial)
        options = ChallengeOptions(question_number=3)
        spec = token.create_challenge(options)
        asked = []
        while spec is not None:
            asked.append(spec.message)
            assert token.check_challenge_response(QUESTIONS[spec.message], spec.data) == 0
            spec = token.next_challenge(spec.data, options)
        assert len(asked) == 3 and len(set(asked)) == 3
        # More questions than answers: all are asked, then they repeat (never twice in a row).
        options = ChallengeOptions(question_number=7)
        spec = token.create_challenge(options)
        asked = []
        while spec is not None:
            assert not asked or spec.message != asked[-1]
            asked.append(spec.message)
            spec = token.next_challenge(spec.data, options)
        assert len(asked) == 7 and set(asked[:5]) == set(QUESTIONS)
        assert token.next_challenge("0", ChallengeOptions()) is None  # the default: one question
