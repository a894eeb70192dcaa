"""The push token through HTTP with a push client built from the protocol (tests/push_app.py):
two-step enrolment, polling, approving once, declining, and refused answers that change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tesserad.core.clock import utc_datetime
from tesserad.core.policy.auth import PolicyAuthPolicies

from tests.http.restapi import Api
from tests.push_app import PushApp

URL = "https://mfa.example.org/ttype/push"


@pytest.fixture
def stored(api: Api) -> Api:
    """The engine decides by the stored policies (the wired core fixes its settings)."""
    api.core.auth.engine.policies = PolicyAuthPolicies(api.ctx.policies, "node", directory=api.core.directory)
    return api


def app_for(api: Api) -> PushApp:
    return PushApp(lambda method, path, params: api.call(method, path, None, params))


def enrolled(api: Api, user: str = "alice", pin: str = "1") -> PushApp:
    api.policy("push", scope="enrollment", action=f"push_registration_url={URL}")
    status, body = api.call("POST", "/token/init", api.admin(), {"type": "push", "genkey": "1", "user": user,
                                                                 "pin": pin})
    assert status == 200, body
    detail = body["detail"]
    assert detail["rollout_state"] == "clientwait" and detail["pushurl"]["img"].startswith("data:image/png")
    app = app_for(api)
    status, body = app.register(detail["pushurl"]["value"])
    assert status == 200 and body["result"]["value"] is True, body
    assert body["detail"]["rollout_state"] == "enrolled"
    return app


def challenge(api: Api, user: str = "alice", pin: str = "1") -> str:
    status, body = api.call("POST", "/validate/check", None, {"user": user, "pass": pin})
    assert status == 200 and body["result"]["authentication"] == "CHALLENGE", body
    assert body["detail"]["multi_challenge"][0]["client_mode"] == "poll"
    return str(body["detail"]["transaction_id"])


def polled(api: Api, app: PushApp) -> list[dict[str, Any]]:
    status, body = app.poll(utc_datetime(api.core.clock))
    assert status == 200, body
    for data in body["result"]["value"]:
        app.verify_challenge(data)
    return list(body["result"]["value"])


def done(api: Api, transaction_id: str) -> bool:
    return bool(api.call("GET", "/validate/polltransaction", None,
                         {"transaction_id": transaction_id})[1]["result"]["value"])


def final(api: Api, transaction_id: str) -> bool:
    body = api.call("POST", "/validate/check", None, {"user": "alice", "pass": "", "transaction_id": transaction_id})[1]
    return bool(body["result"]["value"])


@pytest.mark.policy_action("enrollment", "push_registration_url")
@pytest.mark.policy_action("authentication", "push_text_on_mobile")
@pytest.mark.policy_action("authentication", "push_title_on_mobile")
def test_enrol_poll_approve_once(stored: Api) -> None:
    api = stored
    app = enrolled(api)
    api.policy("texts", scope="authentication", action="push_text_on_mobile=Log in to VPN?, "
               "push_title_on_mobile=ACME")
    transaction_id = challenge(api)
    assert not done(api, transaction_id) and not final(api, transaction_id)
    [data] = polled(api, app)
    assert (data["question"], data["title"], data["url"], data["sslverify"]) == ("Log in to VPN?", "ACME", URL, "1")
    status, body = app.answer(data["nonce"])
    assert status == 200 and body["result"]["value"] is True
    assert polled(api, app) == []
    status, body = app.answer(data["nonce"])  # a replayed nonce
    assert status == 400 and body["result"]["error"]["code"] == 301
    assert done(api, transaction_id)
    assert final(api, transaction_id)
    assert not final(api, transaction_id)  # the transaction is used up


def test_decline_rejects(api: Api) -> None:
    app = enrolled(api)
    transaction_id = challenge(api)
    [data] = polled(api, app)
    assert app.answer(data["nonce"], decline=True)[0] == 200
    assert app.answer(data["nonce"])[0] == 400  # no approving after a decline
    assert not done(api, transaction_id) and not final(api, transaction_id)


def test_bad_answers_change_nothing(api: Api) -> None:
    app = enrolled(api)
    transaction_id = challenge(api)
    [data] = polled(api, app)
    stranger = PushApp(app.send).key
    for params in ({"serial": app.serial, "nonce": data["nonce"], "signature": "AAAA"},
                   {"serial": app.serial, "nonce": data["nonce"]},
                   {"serial": "PIPU0000", "nonce": data["nonce"], "signature": "AAAA"},
                   {"serial": app.serial, "nonce": "N" * 5000, "signature": "AAAA"}):
        status, body = app.send("POST", "/ttype/push", params)
        assert status == 400 and body["result"]["status"] is False, body
    assert app.answer(data["nonce"], key=stranger)[1]["result"]["error"]["message"].endswith(
        "Could not verify signature!")
    assert app.answer("OTHERNONCE")[0] == 400
    assert not done(api, transaction_id)
    assert app.answer(data["nonce"])[0] == 200 and done(api, transaction_id)


def test_poll_window_and_signature(api: Api) -> None:
    app = enrolled(api)
    challenge(api)
    now = utc_datetime(api.core.clock)
    status, body = app.poll(now - timedelta(minutes=5))
    assert status == 400 and "not in valid range" in body["result"]["error"]["message"]
    status, body = app.send("GET", "/ttype/push", {"serial": app.serial, "timestamp": now.isoformat(),
                                                   "signature": "AAAA"})
    assert status == 400 and body["result"]["error"]["message"].endswith("Could not verify signature!")


@pytest.mark.policy_action("authentication", "push_allow_polling")
def test_polling_denied(stored: Api) -> None:
    api = stored
    app = enrolled(api)
    api.policy("nopoll", scope="authentication", action="push_allow_polling=deny")
    status, body = app.poll(utc_datetime(api.core.clock))
    assert (status, body["result"]["error"]["code"]) == (403, 303)


@pytest.mark.policy_action("enrollment", "push_ttl")
@pytest.mark.policy_action("enrollment", "push_ssl_verify")
def test_registration_expires_and_sslverify(api: Api) -> None:
    api.policy("push", scope="enrollment", action=f"push_registration_url={URL}, push_ttl=2, push_ssl_verify=0")
    body = api.call("POST", "/token/init", api.admin(), {"type": "push", "genkey": "1", "user": "alice"})[1]
    url = body["detail"]["pushurl"]["value"]
    fields = PushApp.read_url(url)
    assert (fields["ttl"], fields["sslverify"], fields["url"], fields["v"]) == ("2", "0", URL, "1")
    api.core.clock.advance(3 * 60)
    app = app_for(api)
    status, body = app.register(url)
    assert status == 400 and "push_ttl" in body["result"]["error"]["message"]
    bad = dict(fields, enrollment_credential="00" * 20)
    status, _ = app.send("POST", "/ttype/push", {"serial": bad["serial"], "pubkey": app.pubkey(),
                                                 "enrollment_credential": bad["enrollment_credential"]})
    assert status == 400


@pytest.mark.policy_action("authentication", "push_allow_polling")
def test_polling_per_token(stored: Api) -> None:
    api = stored
    app = enrolled(api)
    challenge(api)
    api.policy("pertoken", scope="authentication", action="push_allow_polling=token")
    assert len(polled(api, app)) == 1  # no tokeninfo polling_allowed: allowed
    assert api.call("POST", f"/token/info/{app.serial}/polling_allowed", api.admin(), {"value": "False"})[0] == 200
    status, body = app.poll(utc_datetime(api.core.clock))
    assert (status, body["result"]["error"]["code"]) == (403, 303)


def test_registration_refusals(api: Api) -> None:
    status, body = api.call("POST", "/token/init", api.admin(), {"type": "push", "genkey": "1", "user": "alice"})
    assert status == 400 and "push_registration_url" in body["result"]["error"]["message"]
    api.policy("push", scope="enrollment", action=f"push_registration_url={URL}")
    body = api.call("POST", "/token/init", api.admin(), {"type": "push", "genkey": "1", "user": "alice"})[1]
    url = body["detail"]["pushurl"]["value"]
    fields = PushApp.read_url(url)
    app = app_for(api)
    base = {"serial": fields["serial"], "enrollment_credential": fields["enrollment_credential"]}
    for params, code in (({**base, "serial": "PIPU404", "pubkey": app.pubkey()}, 601),
                         ({**base, "pubkey": "A" * 5000}, 905),
                         ({**base, "pubkey": "not a key"}, 905)):
        status, body = app.send("POST", "/ttype/push", params)
        assert body["result"]["error"]["code"] == code, body
    assert app.register(url)[0] == 200
    status, body = app.register(url)  # registered: no second registration
    assert (status, body["result"]["error"]["code"]) == (404, 601)
