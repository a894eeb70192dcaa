"""PIN changes asked at login, over /validate/check: change_pin_on_first_use and
change_pin_every date them (tokeninfo next_pin_change, shown as ``detail.next_pin_change``
and ``pin_change``), change_pin_via_validate makes a due change inside the login (new
PIN, the same again) under the user's PIN rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tesserad.core.policy.auth import PolicyAuthPolicies
from tesserad.core.tokens.base import VALIDITY_FORMAT

from tests.http.restapi import Api
from tests.http.test_token_api import enroll
from tests.wired import RFC4226

NOW = datetime.fromtimestamp(1_700_000_000, UTC)


@pytest.fixture
def stored(api: Api) -> Api:
    """The engine decides by the stored policies (the wired core fixes its settings)."""
    api.core.auth.engine.policies = PolicyAuthPolicies(api.ctx.policies, "node", directory=api.core.directory)
    return api


def check(api: Api, password: str, **params: str) -> dict[str, Any]:
    status, body = api.call("POST", "/validate/check", params={"user": "alice", "pass": password, **params})
    assert status in (200, 403), body
    return body


def due(api: Api, serial: str) -> datetime | None:
    value = api.core.token_info(serial, "next_pin_change")
    return datetime.strptime(value, VALIDITY_FORMAT) if value else None


@pytest.mark.policy_action("enrollment", "change_pin_on_first_use")
def test_a_pin_the_admin_sets_is_due_at_first_use(stored: Api) -> None:
    admin = stored.admin()
    untouched, _ = enroll(stored, admin, user="bob", pin="1234")
    stored.policy("first", scope="enrollment", action="change_pin_on_first_use")
    serial, _ = enroll(stored, admin, user="alice", pin="1234")
    assert due(stored, serial) == NOW.replace(second=0) and due(stored, untouched) is None
    # Without change_pin_via_validate the login goes through and tells the application.
    body = check(stored, "1234" + RFC4226[0])
    assert body["result"]["authentication"] == "ACCEPT"
    detail = body["detail"]
    assert (detail["pin_change"], detail["next_pin_change"]) == (True, NOW.strftime("%Y-%m-%dT%H:%M+0000"))
    # An admin's /token/setpin marks it again; a bare enrollment without a PIN does not.
    stored.call("POST", "/token/setpin", admin, {"serial": untouched, "otppin": "4321"})
    assert due(stored, untouched) == NOW.replace(second=0)
    bare, _ = enroll(stored, admin, user="carol")
    assert due(stored, bare) is None


@pytest.mark.policy_action("enrollment", "change_pin_every")
def test_a_pin_is_due_again_after_change_pin_every(stored: Api) -> None:
    admin = stored.admin()
    serial, _ = enroll(stored, admin, user="alice", pin="1234")
    stored.policy("every", scope="enrollment", action="change_pin_every=90d")
    status, body = stored.call("POST", "/token/setpin", stored.user("alice"), {"serial": serial, "otppin": "5678"})
    assert status == 200, body
    assert due(stored, serial) == (NOW + timedelta(days=90)).replace(second=0)
    body = check(stored, "5678" + RFC4226[0])
    assert body["result"]["authentication"] == "ACCEPT" and body["detail"]["pin_change"] is False
    stored.core.clock.advance(91 * 86400)
    body = check(stored, "5678" + RFC4226[1])
    assert body["result"]["authentication"] == "ACCEPT" and body["detail"]["pin_change"] is True


def pin_change_setup(api: Api, **policies: str) -> str:
    api.policy("first", scope="enrollment", action="change_pin_on_first_use")
    api.policy("validate", scope="authentication", action="change_pin_via_validate")
    for name, action in policies.items():
        api.policy(name, scope="enrollment" if name == "every" else "user", action=action)
    serial, _ = enroll(api, api.admin(), user="alice", pin="1234")
    return serial


@pytest.mark.policy_action("authentication", "change_pin_via_validate")
@pytest.mark.policy_action("enrollment", "change_pin_every")
def test_a_due_pin_is_changed_inside_the_login(stored: Api) -> None:
    serial = pin_change_setup(stored, rules="otp_pin_minlength=6, otp_pin_contents=n", every="change_pin_every=30d")
    body = check(stored, "1234" + RFC4226[0])
    assert body["result"] == {"status": True, "value": False, "authentication": "CHALLENGE"}
    detail = body["detail"]
    assert (detail["message"], detail["serial"], detail["type"]) == ("Please enter a new PIN", serial, "hotp")
    transaction = detail["transaction_id"]
    assert detail["multi_challenge"][0]["transaction_id"] == transaction

    # The user's PIN rules: refused with the rule, the challenge stays open.
    refused = check(stored, "12345", transaction_id=transaction)
    assert refused["result"]["status"] is False
    assert refused["result"]["error"]["message"] == "ERR303: The minimum OTP PIN length is 6"
    body = check(stored, "246810", transaction_id=transaction)
    assert body["result"]["authentication"] == "CHALLENGE", body
    assert body["detail"]["message"] == "Please enter the new PIN again"
    assert body["detail"]["transaction_id"] == transaction
    body = check(stored, "246810", transaction_id=transaction)
    assert body["result"] == {"status": True, "value": True, "authentication": "ACCEPT"}
    assert (body["detail"]["message"], body["detail"]["serial"]) == ("PIN successfully set.", serial)
    assert due(stored, serial) == (NOW + timedelta(days=30)).replace(second=0)

    # The transaction is done; the new PIN logs in without a further change, the old one no more.
    assert check(stored, "246810", transaction_id=transaction)["result"]["authentication"] == "REJECT"
    assert check(stored, "1234" + RFC4226[1])["detail"]["message"] == "wrong otp pin"
    body = check(stored, "246810" + RFC4226[2])
    assert body["result"]["authentication"] == "ACCEPT" and body["detail"]["pin_change"] is False
    audit = stored.call("GET", "/audit/", stored.admin(), {"action": "*validate*"})[1]["result"]["value"]
    assert not any("246810" in str(row) for row in audit["auditdata"])


@pytest.mark.policy_action("authentication", "change_pin_via_validate")
def test_two_different_new_pins_fail_the_login_and_keep_the_pin(stored: Api) -> None:
    serial = pin_change_setup(stored)
    transaction = check(stored, "1234" + RFC4226[0])["detail"]["transaction_id"]
    assert check(stored, "1111", transaction_id=transaction)["result"]["authentication"] == "CHALLENGE"
    body = check(stored, "2222", transaction_id=transaction)
    assert body["result"]["authentication"] == "REJECT" and body["detail"]["message"] == "PINs do not match"
    assert check(stored, "1111", transaction_id=transaction)["result"]["authentication"] == "REJECT"
    # Still due: the next login with the old PIN asks again.
    assert due(stored, serial) == NOW.replace(second=0)
    assert check(stored, "1234" + RFC4226[1])["detail"]["message"] == "Please enter a new PIN"


def test_without_change_pin_via_validate_a_due_change_does_not_block(stored: Api) -> None:
    stored.policy("first", scope="enrollment", action="change_pin_on_first_use")
    enroll(stored, stored.admin(), user="alice", pin="1234")
    body = check(stored, "1234" + RFC4226[0])
    assert body["result"]["authentication"] == "ACCEPT" and body["detail"]["pin_change"] is True
