"""Authentication-scope policies (and the authorization limits) set as stored policies and
seen on /validate/check: each answer differs from the one without the policy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tesserad.core.policy.auth import PolicyAuthPolicies
from tesserad.core.tokens import oath

from tests.http.people import PASSWORDS
from tests.http.restapi import Api
from tests.http.test_token_api import enroll
from tests.wired import RFC4226

KEY = b"12345678901234567890"


@pytest.fixture
def stored(people: Api) -> Api:
    """The engine decides by the stored policies (the wired core fixes its settings)."""
    people.core.auth.engine.policies = PolicyAuthPolicies(people.ctx.policies, "node",
                                                          directory=people.core.directory)
    return people


def check(api: Api, password: str, user: str = "alice", **params: str) -> dict[str, Any]:
    status, body = api.call("POST", "/validate/check", params={"user": user, "pass": password, **params})
    assert status in (200, 400), body  # 400: an unknown user
    return body


def accepted(body: dict[str, Any]) -> bool:
    return body["result"].get("authentication") == "ACCEPT"


def failcount(api: Api, serial: str) -> int:
    return api.call("GET", "/token/", api.admin(), {"serial": serial})[1]["result"]["value"]["tokens"][0]["failcount"]


@pytest.mark.policy_action("authentication", "otppin")
def test_otppin_decides_what_the_fixed_part_is(stored: Api) -> None:
    enroll(stored, stored.admin(), user="dave", realm="sales", pin="1234")
    assert not accepted(check(stored, PASSWORDS["dave"] + RFC4226[0], "dave@sales"))
    stored.policy("pin", scope="authentication", action="otppin=userstore")
    assert accepted(check(stored, PASSWORDS["dave"] + RFC4226[0], "dave@sales"))
    assert not accepted(check(stored, "1234" + RFC4226[1], "dave@sales"))
    stored.policy("pin", scope="authentication", action="otppin=none")
    assert accepted(check(stored, RFC4226[1], "dave@sales"))


@pytest.mark.policy_action("authentication", "passthru")
def test_passthru_lets_users_without_tokens_in_with_their_password(stored: Api) -> None:
    assert not accepted(check(stored, PASSWORDS["dave"], "dave@sales"))
    stored.policy("pass", scope="authentication", action="passthru=userstore")
    assert accepted(check(stored, PASSWORDS["dave"], "dave@sales"))
    assert not accepted(check(stored, "wrong", "dave@sales"))
    enroll(stored, stored.admin(), user="dave", realm="sales", pin="1234")
    assert not accepted(check(stored, PASSWORDS["dave"], "dave@sales"))  # a user with a token uses it


@pytest.mark.policy_action("authentication", "passOnNoToken")
@pytest.mark.policy_action("authentication", "passOnNoUser")
def test_pass_on_no_token_and_no_user(stored: Api) -> None:
    assert not accepted(check(stored, "anything"))
    assert check(stored, "anything", "nobody")["result"]["error"]["code"] == 904
    stored.policy("lenient", scope="authentication", action="passOnNoToken")
    assert accepted(check(stored, "anything"))
    assert check(stored, "anything", "nobody")["result"]["error"]["code"] == 904
    stored.policy("lenient", scope="authentication", action="passOnNoToken, passOnNoUser")
    assert accepted(check(stored, "anything", "nobody"))


@pytest.mark.policy_action("authentication", "challenge_response")
@pytest.mark.policy_action("authentication", "challenge_text")
def test_challenge_response_and_its_text(stored: Api) -> None:
    enroll(stored, stored.admin(), user="alice", pin="1234")
    assert "transaction_id" not in check(stored, "1234")["detail"]
    stored.policy("cr", scope="authentication", action="challenge_response=hotp")
    detail = check(stored, "1234")["detail"]
    assert detail["transaction_id"] and detail["message"] != "Your code, please"
    assert accepted(check(stored, RFC4226[0], transaction_id=detail["transaction_id"]))
    stored.policy("cr", scope="authentication", action="challenge_response=hotp, challenge_text='Your code, please'")
    assert check(stored, "1234")["detail"]["message"] == "Your code, please"


@pytest.mark.policy_action("authentication", "increase_failcounter_on_challenge")
def test_every_challenge_counts_as_a_failure(stored: Api) -> None:
    serial, _ = enroll(stored, stored.admin(), user="alice", pin="1234")
    stored.policy("cr", scope="authentication", action="challenge_response=hotp")
    check(stored, "1234")
    assert failcount(stored, serial) == 0
    stored.policy("count", scope="authentication", action="increase_failcounter_on_challenge")
    check(stored, "1234")
    assert failcount(stored, serial) == 1


@pytest.mark.policy_action("authentication", "reset_all_user_tokens")
def test_a_success_resets_the_fail_counters_of_all_the_users_tokens(stored: Api) -> None:
    first, _ = enroll(stored, stored.admin(), user="alice", pin="1234")
    second, _ = enroll(stored, stored.admin(), user="alice", pin="5678")
    check(stored, "1234000000")
    check(stored, "5678000000")
    assert accepted(check(stored, "1234" + RFC4226[0]))
    assert failcount(stored, first) == 0 and failcount(stored, second) > 0
    stored.policy("reset", scope="authentication", action="reset_all_user_tokens")
    check(stored, "5678000000")
    assert accepted(check(stored, "1234" + RFC4226[1]))
    assert (failcount(stored, first), failcount(stored, second)) == (0, 0)


@pytest.mark.policy_action("authentication", "resync_via_multichallenge")
def test_a_value_far_ahead_opens_a_resync_challenge(stored: Api) -> None:
    stored.core.system(AutoResync=True)
    enroll(stored, stored.admin(), user="alice", pin="1234")
    assert "transaction_id" not in check(stored, "1234" + oath.hotp(KEY, 500))["detail"]
    stored.policy("resync", scope="authentication", action="resync_via_multichallenge")
    detail = check(stored, "1234" + oath.hotp(KEY, 600))["detail"]
    assert accepted(check(stored, oath.hotp(KEY, 601), transaction_id=detail["transaction_id"]))


@pytest.mark.policy_action("authentication", "indexedsecret_count")
@pytest.mark.policy_action("authentication", "question_number")
def test_how_many_positions_and_questions_a_challenge_asks(stored: Api) -> None:
    admin = stored.admin()
    enroll(stored, admin, type="indexedsecret", otpkey="abcdefghij", user="alice", pin="1234")
    enroll(stored, admin, type="question", user="bob", pin="1234",
           questions=json.dumps({f"Question {n}?": f"answer {n}" for n in range(5)}))
    stored.policy("cr", scope="authentication", action="challenge_response=indexedsecret question")

    def asked(user: str) -> dict[str, Any]:
        return check(stored, "1234", user)["detail"]

    positions = asked("alice")["attributes"]["random_positions"]
    assert len(positions) == 2
    stored.policy("steps", scope="authentication", action="indexedsecret_count=4, question_number=3")
    assert len(asked("alice")["attributes"]["random_positions"]) == 4
    first = asked("bob")
    tid, answers = first["transaction_id"], 1
    while "transaction_id" in first:  # one question after the other, as many as question_number
        question = first["message"]
        first = check(stored, f"answer {question.split()[1].rstrip('?')}", "bob", transaction_id=tid)["detail"]
        answers += "transaction_id" in first
    assert answers == 3


@pytest.mark.policy_action("authorization", "auth_max_fail")
def test_auth_max_fail_refuses_even_the_right_value(stored: Api) -> None:
    enroll(stored, stored.admin(), user="alice", pin="1234")
    check(stored, "1234000000")
    assert accepted(check(stored, "1234" + RFC4226[0]))
    stored.policy("limit", scope="authorization", action="auth_max_fail=1/1m")
    check(stored, "1234000000")
    refused = check(stored, "1234" + RFC4226[1])
    assert not accepted(refused) and refused["detail"]["message"] == "Only 1 failed authentications per 0:01:00"
    stored.core.clock.advance(61)
    assert accepted(check(stored, "1234" + RFC4226[2]))


@pytest.mark.policy_action("authorization", "auth_max_success")
def test_auth_max_success_refuses_the_next_success(stored: Api) -> None:
    enroll(stored, stored.admin(), user="alice", pin="1234")
    assert accepted(check(stored, "1234" + RFC4226[0]))
    stored.policy("limit", scope="authorization", action="auth_max_success=2/5m")
    assert accepted(check(stored, "1234" + RFC4226[1]))
    refused = check(stored, "1234" + RFC4226[2])
    assert not accepted(refused)
    assert refused["detail"]["message"] == "Only 2 successful authentications per 0:05:00"


@pytest.mark.policy_action("authorization", "last_auth")
def test_last_auth_refuses_a_token_unused_for_too_long(stored: Api) -> None:
    enroll(stored, stored.admin(), user="alice", pin="1234")
    assert accepted(check(stored, "1234" + RFC4226[0]))
    stored.core.clock.advance(2 * 3600)
    assert accepted(check(stored, "1234" + RFC4226[1]))
    stored.core.clock.advance(2 * 3600)
    stored.policy("age", scope="authorization", action="last_auth=1h")
    refused = check(stored, "1234" + RFC4226[2])
    assert not accepted(refused) and refused["detail"]["message"].endswith("It is to long ago.")
