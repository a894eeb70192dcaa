"""Authentication policy ``mangle``: user, pass and realm rewritten before authenticating."""

from __future__ import annotations

import pytest
from pyrad import packet as rp

from tests.auth_actions.conftest import Radius, check
from tests.http.restapi import Api
from tests.http.test_token_api import enroll
from tests.radius.nas import access_request
from tests.wired import RFC4226

pytestmark = pytest.mark.policy_action("authentication", "mangle")


def last_audit(api: Api) -> dict[str, object]:
    page = api.call("GET", "/audit/", api.admin(), {"action": "*validate*"})[1]["result"]["value"]
    return page["auditdata"][0]


def test_user_pass_and_realm_are_rewritten(stored: Api) -> None:
    enroll(stored, stored.admin(), user="alice", pin="1234")
    stored.policy("strip-domain", scope="authentication", action=r"mangle=user/^CORP\\(.*)$/\1/")
    stored.policy("dash", scope="authentication", action=r"mangle=pass/^(.*)-(.{6})$/\1\2/")
    stored.policy("blanks", scope="authentication", action=r"mangle=realm/\s//")
    # Without the rewrite "CORP\alice" is no user and "1234-755224" no PIN+OTP.
    body = check(stored, "1234-" + RFC4226[0], user="CORP\\alice", realm="exa mple")
    assert body["result"].get("authentication") == "ACCEPT", body
    newest = last_audit(stored)
    assert (newest["user"], newest["realm"]) == ("alice", "example")
    # The rules only rewrite what they match: the plain form still works.
    assert check(stored, "1234" + RFC4226[1])["result"]["authentication"] == "ACCEPT"


def test_several_rules_apply_strongest_first_each_to_the_result_of_the_one_before(stored: Api) -> None:
    enroll(stored, stored.admin(), user="bob", pin="1234")
    stored.policy("first", scope="authentication", action="mangle=user/^xb$/bob/", priority=1)
    stored.policy("second", scope="authentication", action="mangle=user/^x//", priority=2)
    # first then second: xb -> bob -> bob; the other order would give "b", an unknown user.
    body = check(stored, "1234" + RFC4226[0], user="xb")
    assert body["result"].get("authentication") == "ACCEPT", body
    stored.policy("first", priority=3)
    body = check(stored, "1234" + RFC4226[1], user="xb")
    assert body["result"]["status"] is False
    assert "can not be found" in body["result"]["error"]["message"]


def test_an_invalid_result_is_refused_and_nothing_is_used_up(stored: Api) -> None:
    serial, _ = enroll(stored, stored.admin(), user="alice", pin="1234")
    stored.policy("empty", scope="authentication", action="mangle=user/.*//")
    body = check(stored, "1234" + RFC4226[0])
    assert body["result"]["status"] is False
    assert body["result"]["error"]["message"] == "ERR905: missing parameter: user or serial"
    stored.policy("empty", scope="authentication", action=r"mangle=pass/(\d+)/\2/")
    body = check(stored, "1234" + RFC4226[0])
    assert body["result"]["status"] is False
    message = body["result"]["error"]["message"]
    assert "mangle rule for 'pass' cannot be applied" in message and "1234" not in message
    assert "1234" not in str(last_audit(stored))
    stored.call("DELETE", "/policy/empty", stored.admin())
    # The value was not used up by the refused requests.
    assert check(stored, "1234" + RFC4226[0])["result"]["authentication"] == "ACCEPT"
    assert serial


def test_radius_logins_are_rewritten_too(radius: Radius) -> None:
    api = radius.api
    enroll(api, api.admin(), user="alice", pin="1234")
    api.policy("strip-domain", scope="authentication", action=r"mangle=user/^CORP\\(.*)$/\1/")
    assert radius.ask(access_request("CORP\\alice", "1234" + RFC4226[0])).code == rp.AccessAccept
    assert radius.ask(access_request("CORP\\alice", "1234" + RFC4226[0])).code == rp.AccessReject  # used up
