"""/validate/triggerchallenge: an admin JWT with the right triggerchallenge starts challenges
for every challenge-response token of a user, whatever the challenge_response policy; the
answer then goes to /validate/check with the transaction id."""

from __future__ import annotations

from tests.http.restapi import Api
from tests.wired import RFC4226, RFC_SEED_HEX


def test_trigger_and_answer(api: Api) -> None:
    hotp = api.core.enroll("alice", type="hotp", otpkey=RFC_SEED_HEX, pin="1", serial="HOTP1")
    totp = api.core.enroll("alice", type="totp", otpkey=RFC_SEED_HEX, pin="2", serial="TOTP1")
    api.core.enroll("alice", type="spass", pin="3", serial="SPASS1")  # no challenge-response type
    status, body = api.call("POST", "/validate/triggerchallenge", api.admin(), {"user": "alice"})
    assert status == 200 and body["id"] == 2
    assert body["result"] == {"status": True, "value": 2, "authentication": "CHALLENGE"}
    detail = body["detail"]
    transaction_id = detail["transaction_id"]
    assert [c["serial"] for c in detail["multi_challenge"]] == [hotp, totp]
    assert detail["transaction_ids"] == [transaction_id] * 2 and detail["messages"] == ["please enter otp: "] * 2
    assert {c["transaction_id"] for c in detail["multi_challenge"]} == {transaction_id}
    answer = api.core.check(RFC4226[0], transaction_id=transaction_id)
    assert answer.accepted and answer.serial == hotp


def test_trigger_by_serial_and_type(api: Api) -> None:
    api.core.enroll("bob", type="hotp", otpkey=RFC_SEED_HEX, serial="H2")
    api.core.enroll("bob", type="totp", otpkey=RFC_SEED_HEX, serial="T2")
    admin = api.admin()
    body = api.call("GET", "/validate/triggerchallenge", admin, {"user": "bob", "type": "totp"})[1]
    assert body["result"]["value"] == 1 and body["detail"]["serial"] == "T2"
    body = api.call("GET", "/validate/triggerchallenge", admin, {"serial": "H2"})[1]
    assert body["result"]["value"] == 1 and body["detail"]["serial"] == "H2"


def test_no_token_no_right_no_user(api: Api) -> None:
    admin = api.admin()
    status, body = api.call("POST", "/validate/triggerchallenge", admin, {"user": "carol"})
    assert status == 200
    assert (body["result"]["value"], body["detail"]) == (0, {"messages": [], "transaction_ids": []})
    status, body = api.call("POST", "/validate/triggerchallenge", admin, {"user": "nobody"})
    assert (status, body["result"]["error"]["code"]) == (400, 904)
    assert api.call("POST", "/validate/triggerchallenge", None, {"user": "carol"})[0] == 401
    assert api.call("POST", "/validate/triggerchallenge", api.user("carol"), {"user": "carol"})[0] == 401
    api.core.enroll("carol", type="hotp", otpkey=RFC_SEED_HEX, serial="C1")
    api.policy("service", scope="admin", action="triggerchallenge", adminuser="service", realm="other")
    status, body = api.call("POST", "/validate/triggerchallenge", api.admin("service"), {"user": "carol"})
    assert (status, body["result"]["error"]["code"]) == (403, 303)
    status, body = api.call("POST", "/validate/triggerchallenge", api.admin("service"), {"serial": "C1"})
    assert (status, body["result"]["error"]["code"]) == (403, 303)
