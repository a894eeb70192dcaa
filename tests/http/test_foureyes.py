"""The 4eyes token through /token/init and /validate/check: alice's logins need the PIN
and OTP values of two tokens of realm sales (dave, erin) and one of realm example (bob),
given all at once or one after the other in challenges; real HOTP and TOTP tokens."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tesserad.core.policy.auth import PolicyAuthPolicies
from tesserad.core.store.models import Challenge, Token
from tesserad.core.tokens import oath

from tests.http.people import PASSWORDS
from tests.http.restapi import Api
from tests.http.test_token_api import row
from tests.wired import RFC4226, RFC_SEED_HEX

ERIN_KEY = bytes(range(20))
BOB_KEY = bytes(range(20, 40))
NOW = 1_700_000_000


def erin_otp(step: int = 0) -> str:
    return oath.hotp(ERIN_KEY, NOW // 30 + step)


def bob_otp(counter: int) -> str:
    return oath.hotp(BOB_KEY, counter)


def init(api: Api, **params: str) -> tuple[int, Any]:
    return api.call("POST", "/token/init", api.admin(), params)


def enrolled(api: Api, **params: str) -> str:
    status, body = init(api, **params)
    assert status == 200, body
    return str(body["detail"]["serial"])


def check(api: Api, **params: str) -> dict[str, Any]:
    status, body = api.call("POST", "/validate/check", None, params)
    assert status == 200, body
    return dict(body)


@pytest.fixture
def rule(people: Api) -> Api:
    """alice's 4eyes token EYES (PIN "four"): two of sales, one of example."""
    enrolled(people, type="hotp", otpkey=RFC_SEED_HEX, user="dave", realm="sales", pin="dv", serial="DAVE1")
    enrolled(people, type="totp", otpkey=ERIN_KEY.hex(), user="erin", realm="sales", pin="er", serial="ERIN1")
    enrolled(people, type="hotp", otpkey=BOB_KEY.hex(), user="bob", realm="example", pin="bb", serial="BOB1")
    enrolled(people, type="4eyes", user="alice", realm="example", pin="four", serial="EYES",
             **{"4eyes": "sales:2,example:1"})
    return people


def counts(api: Api, *serials: str) -> list[tuple[int, int, int]]:
    """(count, failcount, count_auth_success) of each token."""
    found = [row(api, serial) for serial in serials]
    return [(t.count, t.failcount, t.count_auth_success) for t in found if t is not None]


def test_enrolment_stores_the_realms_and_the_separator(rule: Api) -> None:
    status, body = rule.call("GET", "/token/", rule.admin(), {"serial": "EYES"})
    assert status == 200, body
    [token] = body["result"]["value"]["tokens"]
    assert token["tokentype"] == "4eyes" and token["info"]["4eyes"] == "sales:2,example:1"
    assert token["info"]["separator"] == " "
    serial = enrolled(rule, type="4eyes", separator="|", **{"4eyes": '{"sales": {"selected": true, "count": 2},'
                                                                      ' "staff": {"selected": false, "count": 1}}'})
    assert serial.startswith("PI4E")
    status, body = rule.call("GET", "/token/", rule.admin(), {"serial": serial})
    assert body["result"]["value"]["tokens"][0]["info"]["4eyes"] == "sales:2"


def test_all_values_at_once_in_any_order(rule: Api) -> None:
    password = f"er{erin_otp()} bb{bob_otp(0)} dv{RFC4226[0]}"
    body = check(rule, user="alice", realm="example", **{"pass": password})
    assert body["result"]["value"] is True, body
    assert body["detail"]["message"] == "matching 1 tokens"
    assert body["detail"]["serial"] == "EYES" and body["detail"]["type"] == "4eyes"
    # Each confirming value is used up, and counts as its token's success.
    assert counts(rule, "DAVE1", "BOB1") == [(1, 0, 1), (1, 0, 1)]
    replayed = check(rule, user="alice", realm="example", **{"pass": password})
    assert replayed["result"]["value"] is False
    assert replayed["detail"]["foureyes"] == "Only found 0 tokens in realm sales"


def test_a_missing_realm_is_named(rule: Api) -> None:
    body = check(rule, user="alice", realm="example", **{"pass": f"dv{RFC4226[0]} er{erin_otp()}"})
    assert body["result"]["value"] is False
    assert body["detail"]["message"] == "wrong otp value"
    assert body["detail"]["foureyes"] == "Only found 0 tokens in realm example"
    assert body["detail"]["serial"] == "EYES"
    assert counts(rule, "EYES") == [(0, 1, 0)]


def test_one_token_counts_once(rule: Api) -> None:
    body = check(rule, user="alice", realm="example",
                 **{"pass": f"dv{RFC4226[0]} dv{RFC4226[1]} bb{bob_otp(0)}"})
    assert body["result"]["value"] is False
    assert body["detail"]["foureyes"] == "Only found 1 tokens in realm sales"


def test_two_tokens_of_one_user_count_twice_as_the_spec_says(rule: Api) -> None:
    enrolled(rule, type="hotp", otpkey=BOB_KEY.hex(), user="dave", realm="sales", pin="d2", serial="DAVE2")
    body = check(rule, user="alice", realm="example",
                 **{"pass": f"dv{RFC4226[0]} d2{bob_otp(0)} bb{bob_otp(0)}"})
    assert body["result"]["value"] is True, body


def test_the_owners_own_tokens_do_not_confirm_and_still_log_in(rule: Api) -> None:
    enrolled(rule, type="hotp", otpkey=BOB_KEY.hex(), user="alice", realm="example", pin="al", serial="ALICE1")
    body = check(rule, user="alice", realm="example", **{"pass": f"dv{RFC4226[0]} er{erin_otp()} al{bob_otp(0)}"})
    assert body["detail"]["foureyes"] == "Only found 0 tokens in realm example"
    assert counts(rule, "ALICE1") == [(0, 0, 0)]
    body = check(rule, user="alice", realm="example", **{"pass": f"al{bob_otp(0)}"})
    assert body["result"]["value"] is True and body["detail"]["serial"] == "ALICE1"


def test_a_right_otp_with_a_wrong_pin_does_not_confirm(rule: Api) -> None:
    body = check(rule, user="alice", realm="example",
                 **{"pass": f"xx{RFC4226[0]} er{erin_otp()} bb{bob_otp(0)}"})
    assert body["result"]["value"] is False
    assert body["detail"]["foureyes"] == "Only found 1 tokens in realm sales"
    assert counts(rule, "DAVE1") == [(0, 1, 0)]  # dave's token counts the failure, its value stays


@pytest.mark.policy_action("authentication", "otppin")
def test_the_owners_otppin_policy_says_how_a_confirming_pin_is_checked(rule: Api) -> None:
    rule.core.auth.engine.policies = PolicyAuthPolicies(rule.ctx.policies, "node", directory=rule.core.directory)
    rule.policy("salespin", scope="authentication", action="otppin=userstore", realm="sales")
    token_pins = f"dv{RFC4226[0]} er{erin_otp()} bb{bob_otp(0)}"
    assert check(rule, user="alice", realm="example", **{"pass": token_pins})["result"]["value"] is False
    passwords = f"{PASSWORDS['dave']}{RFC4226[1]} {PASSWORDS['erin']}{erin_otp(1)} bb{bob_otp(1)}"
    assert check(rule, user="alice", realm="example", **{"pass": passwords})["result"]["value"] is True


def test_a_disabled_token_does_not_confirm(rule: Api) -> None:
    status, _ = rule.call("POST", "/token/disable/BOB1", rule.admin())
    assert status == 200
    body = check(rule, user="alice", realm="example",
                 **{"pass": f"dv{RFC4226[0]} er{erin_otp()} bb{bob_otp(0)}"})
    assert body["detail"]["foureyes"] == "Only found 0 tokens in realm example"
    assert counts(rule, "BOB1") == [(0, 0, 0)]


def test_more_values_than_tokens_are_refused_unchecked(rule: Api) -> None:
    password = " ".join([f"dv{RFC4226[0]}", f"er{erin_otp()}", f"bb{bob_otp(0)}", "x"])
    body = check(rule, user="alice", realm="example", **{"pass": password})
    assert body["result"]["value"] is False
    assert body["detail"]["foureyes"] == "4 values given, but only 3 tokens are missing"
    assert counts(rule, "DAVE1", "BOB1") == [(0, 0, 0), (0, 0, 0)]


def challenge_of(body: dict[str, Any]) -> tuple[str, str]:
    assert body["result"]["authentication"] == "CHALLENGE", body
    return str(body["detail"]["transaction_id"]), str(body["detail"]["message"])


def test_the_pin_starts_challenges_one_token_after_the_other(rule: Api) -> None:
    transaction, message = challenge_of(check(rule, user="alice", realm="example", **{"pass": "four"}))
    assert message == "Please enter the PIN and OTP value of a further token: 2 of realm sales, 1 of realm example " \
                      "missing."
    wrong = check(rule, user="alice", realm="example", transaction_id=transaction, **{"pass": "dv000000"})
    assert wrong["result"]["value"] is False and wrong["detail"]["message"] == "Response did not match the challenge."
    transaction2, message = challenge_of(check(rule, user="alice", realm="example", transaction_id=transaction,
                                               **{"pass": f"bb{bob_otp(0)}"}))
    assert transaction2 == transaction and message.endswith(": 2 of realm sales missing.")
    # The same token again does not count.
    again = check(rule, user="alice", realm="example", transaction_id=transaction, **{"pass": f"bb{bob_otp(1)}"})
    assert again["result"]["value"] is False
    _, message = challenge_of(check(rule, user="alice", realm="example", transaction_id=transaction,
                                    **{"pass": f"dv{RFC4226[0]}"}))
    assert message.endswith(": 1 of realm sales missing.")
    done = check(rule, user="alice", realm="example", transaction_id=transaction, **{"pass": f"er{erin_otp()}"})
    assert done["result"]["value"] is True and done["detail"]["message"] == "Found matching challenge"
    with rule.core.database.session() as session:
        assert session.scalars(select(Challenge).where(Challenge.transaction_id == transaction)).all() == []


def test_a_first_value_alone_starts_the_challenges(rule: Api) -> None:
    status, _ = rule.call("POST", "/token/unassign", rule.admin(), {"serial": "EYES"})
    assert status == 200
    status, _ = rule.call("POST", "/token/assign", rule.admin(), {"serial": "EYES", "user": "alice",
                                                                  "realm": "example"})
    assert status == 200  # unassigning dropped the PIN: a 4eyes token without PIN
    transaction, message = challenge_of(check(rule, user="alice", realm="example", **{"pass": f"dv{RFC4226[0]}"}))
    assert message.endswith(": 1 of realm sales, 1 of realm example missing.")
    challenge_of(check(rule, user="alice", realm="example", transaction_id=transaction,
                       **{"pass": f"er{erin_otp()}"}))
    done = check(rule, user="alice", realm="example", transaction_id=transaction, **{"pass": f"bb{bob_otp(0)}"})
    assert done["result"]["value"] is True


def test_by_serial_and_with_its_own_separator(rule: Api) -> None:
    serial = enrolled(rule, type="4eyes", separator="|", **{"4eyes": "example:1,sales:1"})
    body = check(rule, serial=serial, **{"pass": f"dv{RFC4226[0]}|bb{bob_otp(0)}"})
    assert body["result"]["value"] is True, body
    body = check(rule, serial=serial, **{"pass": f"dv{RFC4226[1]} bb{bob_otp(1)}"})
    assert body["result"]["value"] is False  # the blank is part of one value here


@pytest.mark.parametrize("params, message", [
    ({}, "missing parameter: 4eyes (the realms and counts, like realm1:2,realm2:1)"),
    ({"4eyes": "sales"}, "4eyes: 'sales' is not realm:count"),
    ({"4eyes": "sales:two"}, "4eyes: the count of realm sales must be a number"),
    ({"4eyes": "sales:0"}, "4eyes: the count of realm sales must be 1 to 10"),
    ({"4eyes": "sales:11"}, "4eyes: the count of realm sales must be 1 to 10"),
    ({"4eyes": "sales:1,SALES:1"}, "4eyes: realm sales is named twice"),
    ({"4eyes": "sa les:1"}, "4eyes: 'sa les' is not a realm name"),
    ({"4eyes": "nosuchrealm:1"}, "realm 'nosuchrealm' does not exist"),
    ({"4eyes": "{not json"}, "4eyes: not a JSON object of realms"),
    ({"4eyes": "x" * 3000}, "4eyes is too long"),
    ({"4eyes": "sales:1", "separator": "ab"}, "separator must be one character that is neither a letter nor a digit"),
    ({"4eyes": "sales:1", "separator": "7"}, "separator must be one character that is neither a letter nor a digit"),
])
def test_bad_enrolment_parameters_change_nothing(rule: Api, params: dict[str, str], message: str) -> None:
    with rule.core.database.session() as session:
        before = session.scalars(select(Token.serial)).all()
    status, body = init(rule, type="4eyes", serial="BAD4E", **params)
    assert status == 400 and body["result"]["error"]["message"].endswith(message), body
    with rule.core.database.session() as session:
        assert session.scalars(select(Token.serial)).all() == before


def test_an_unknown_serial_is_an_error(rule: Api) -> None:
    status, body = rule.call("POST", "/validate/check", None, {"serial": "PI4ENOSUCH", "pass": "four"})
    assert body["result"]["status"] is False
    assert "PI4ENOSUCH does not exist" in body["result"]["error"]["message"]


def test_the_web_ui_form_as_a_json_object(rule: Api) -> None:
    """privacyIDEA's web UI sends the realms as an object in a JSON body."""
    status, body = rule.call("POST", "/token/init", rule.admin(),
                             body={"type": "4eyes", "4eyes": {"sales": {"selected": True, "count": 1},
                                                              "example": {"selected": True, "count": 1}}})
    assert status == 200, body
    status, body = rule.call("GET", "/token/", rule.admin(), {"serial": body["detail"]["serial"]})
    assert body["result"]["value"]["tokens"][0]["info"]["4eyes"] == "sales:1,example:1"
    status, body = rule.call("POST", "/token/init", rule.admin(), body={"type": "4eyes", "4eyes": ["sales:1"]})
    assert status == 400 and body["result"]["error"]["message"] == "ERR905: 4eyes: not a JSON object of realms"
    status, body = rule.call("POST", "/token/init", rule.admin(), body={"type": "hotp", "otplen": {"a": 1}})
    assert status == 400 and body["result"]["error"]["message"].endswith("parameter otplen must be a string, "
                                                                       "number or boolean")
