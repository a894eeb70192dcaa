"""Policy actions of the remaining admin/authorization work: ``setrealm`` for /validate,
``losttoken_PW_length/contents/valid`` for /token/lost, ``enrollDAYPASSWORD``."""

from __future__ import annotations

import string

import pytest

from tesserad.core.policy.auth import PolicyAuthPolicies

from tests.http.restapi import Api
from tests.http.test_token_api import enroll, error, ok
from tests.wired import RFC4226


@pytest.mark.policy_action("authorization", "setrealm")
def test_setrealm_moves_the_user_before_the_check(people: Api) -> None:
    engine = people.core.auth.engine  # the wired core fixes its settings: decide by the stored policies
    engine.policies = PolicyAuthPolicies(people.ctx.policies, "node", directory=people.core.directory)
    enroll(people, people.admin(), user="dave", realm="sales")
    check = {"user": "dave", "pass": RFC4226[0]}  # dave is not in the default realm example
    assert people.call("POST", "/validate/check", params=check)[1]["result"]["status"] is False
    people.policy("move", scope="authorization", action="setrealm=sales", realm="example")
    status, body = people.call("POST", "/validate/check", params=check)
    assert status == 200 and body["result"]["authentication"] == "ACCEPT", body
    # users of other realms are not moved
    people.policy("move", scope="authorization", action="setrealm=example", realm="staff")
    assert people.call("POST", "/validate/check", params={"user": "dave@sales", "pass": RFC4226[1]})[1][
        "result"]["authentication"] == "ACCEPT"


@pytest.mark.policy_action("enrollment", "losttoken_PW_length")
@pytest.mark.policy_action("enrollment", "losttoken_PW_contents")
@pytest.mark.policy_action("enrollment", "losttoken_valid")
def test_lost_token_password_follows_the_policies(api: Api) -> None:
    admin = api.admin()
    serial, _ = enroll(api, admin, user="alice")
    api.policy("lost", scope="enrollment", action="losttoken_PW_length=20, losttoken_PW_contents=n, "
                                                  "losttoken_valid=3")
    value = ok(api.call("POST", f"/token/lost/{serial}", admin))
    assert len(value["password"]) == 20 and set(value["password"]) <= set(string.digits)
    assert value["serial"] == f"lost{serial}" and value["end_date"].startswith("2023-11-17")
    assert api.core.check(value["password"]).outcome.value == "ACCEPT"


def test_daypassword_enrollment_is_a_right(api: Api) -> None:
    api.policy("hotp only", scope="admin", action="enrollHOTP", adminuser="admin")
    status_code = error(api.call("POST", "/token/init", api.admin(), {"type": "daypassword", "genkey": "1"}))
    assert status_code == (403, 303)
    api.policy("hotp only", scope="admin", action="enrollHOTP, enrollDAYPASSWORD", adminuser="admin")
    assert ok(api.call("POST", "/token/init", api.admin(), {"type": "daypassword", "genkey": "1"})) is True
