"""Authorization-scope policies on /validate/check: tokentype, serial, tokeninfo and
authorized refuse a right value (which stays used up), application_tokentype, and what the
answer shows (add_user_in_response, add_resolver_in_response, no_detail_on_*)."""

from __future__ import annotations

from typing import Any

import pytest

from tesserad.core.policy.auth import PolicyAuthPolicies

from tests.http.restapi import Api
from tests.http.test_token_api import enroll
from tests.wired import RFC4226


@pytest.fixture
def stored(api: Api) -> Api:
    """The engine decides by the stored policies (the wired core fixes its settings)."""
    api.core.auth.engine.policies = PolicyAuthPolicies(api.ctx.policies, "node", directory=api.core.directory)
    return api


def check(api: Api, password: str, **params: str) -> tuple[int, dict[str, Any]]:
    return api.call("POST", "/validate/check", params={"user": "alice", "pass": password, **params})


def counter(api: Api, serial: str) -> int:
    return api.call("GET", "/token/", api.admin(), {"serial": serial})[1]["result"]["value"]["tokens"][0]["count"]


@pytest.mark.parametrize(("action", "code", "message"), [
    pytest.param("tokentype=totp spass", 303, "Tokentype not allowed for authentication!",
                 marks=pytest.mark.policy_action("authorization", "tokentype")),
    pytest.param("serial=^TOTP", 303, "Serial is not allowed for authentication!",
                 marks=pytest.mark.policy_action("authorization", "serial")),
    pytest.param("tokeninfo=hashlib/^sha256$/", 303, "Tokeninfo field hashlib with contents sha1 does not match "
                 "^sha256$", marks=pytest.mark.policy_action("authorization", "tokeninfo")),
    pytest.param("authorized=deny_access", 401, "User is not authorized to authenticate under these conditions.",
                 marks=pytest.mark.policy_action("authorization", "authorized")),
])
def test_a_refusing_policy_burns_the_value(stored: Api, action: str, code: int, message: str) -> None:
    serial, _ = enroll(stored, stored.admin(), user="alice", pin="1234")
    stored.policy("authz", scope="authorization", action=action)
    status, body = check(stored, "1234" + RFC4226[0])
    assert body["result"]["status"] is False, body
    assert (body["result"]["error"]["code"], body["result"]["error"]["message"]) == (code, f"ERR{code}: {message}")
    assert counter(stored, serial) == 1  # used up all the same
    page = stored.call("GET", "/audit/", stored.admin(), {"action": "*validate*"})[1]["result"]["value"]
    newest = page["auditdata"][0]
    assert newest["success"] in (0, False) and newest["info"] == message, newest
    stored.policy("authz", scope="authorization", action="authorized=grant_access")
    assert check(stored, "1234" + RFC4226[1])[1]["result"]["authentication"] == "ACCEPT"


@pytest.mark.policy_action("authorization", "application_tokentype")
def test_application_tokentype_narrows_to_the_asked_type(stored: Api) -> None:
    enroll(stored, stored.admin(), user="alice", pin="1234")
    # Without the policy the client's type is ignored.
    assert check(stored, "1234" + RFC4226[0], type="totp")[1]["result"]["authentication"] == "ACCEPT"
    stored.policy("types", scope="authorization", action="application_tokentype")
    status, body = check(stored, "1234" + RFC4226[1], type="totp")
    assert body["detail"]["message"] == "The user has no tokens assigned"
    assert check(stored, "1234" + RFC4226[1], type="hotp")[1]["result"]["authentication"] == "ACCEPT"


@pytest.mark.policy_action("authorization", "add_user_in_response")
@pytest.mark.policy_action("authorization", "add_resolver_in_response")
@pytest.mark.policy_action("authorization", "no_detail_on_success")
@pytest.mark.policy_action("authorization", "no_detail_on_fail")
def test_user_and_resolver_in_the_answer_and_no_detail(stored: Api) -> None:
    enroll(stored, stored.admin(), user="alice", pin="1234")
    assert "user" not in check(stored, "1234" + RFC4226[0])[1]["detail"]
    stored.policy("show", scope="authorization", action="add_user_in_response, add_resolver_in_response")
    detail = check(stored, "1234" + RFC4226[1])[1]["detail"]
    assert detail["user"]["username"] == "alice" and detail["user-realm"] == "example"
    assert detail["user-resolver"]
    assert "user" not in check(stored, "1234000000")[1]["detail"]  # only on success
    stored.policy("quiet", scope="authorization", action="no_detail_on_success, no_detail_on_fail")
    status, body = check(stored, "1234" + RFC4226[2])
    assert body["result"]["value"] is True and "detail" not in body
    status, body = check(stored, "1234000000")
    assert body["result"]["value"] is False and "detail" not in body
