"""Login to the API and web UI with user, PIN and a WebAuthn token (webui
login_mode=privacyIDEA): POST /auth answers the challenge with webAuthnSignRequest, and
the assertion sent to POST /auth with the transaction id and Origin header issues the JWT."""

from __future__ import annotations

from typing import Any

from tests.http.restapi import Api
from tests.softauthn import SoftAuthenticator
from tests.webauthn.conftest import ORIGIN, register, unb64


def auth(api: Api, params: dict[str, str]) -> tuple[int, Any]:
    return api.call("POST", "/auth", None, params, headers={"Origin": ORIGIN})


def pin_challenge(api: Api) -> dict[str, Any]:
    status, body = auth(api, {"username": "alice", "password": "1234", "realm": "example"})
    assert status == 401 and body["detail"]["client_mode"] == "webauthn", body
    [challenge] = body["detail"]["multi_challenge"]
    return challenge


def test_pin_then_security_key_logs_in_to_the_ui(wa: Api) -> None:
    authenticator = SoftAuthenticator()
    register(wa, authenticator, pin="1234")
    wa.policy("ui", scope="webui", action="login_mode=privacyIDEA", realm="example")
    challenge = pin_challenge(wa)
    signed = authenticator.assert_(unb64(challenge["attributes"]["webAuthnSignRequest"]["challenge"]))
    params = {"username": "alice", "realm": "example", "password": "", "transaction_id": challenge["transaction_id"]}
    status, body = auth(wa, params | signed.wire())
    assert status == 200, body
    value = body["result"]["value"]
    assert (value["role"], value["username"], value["realm"]) == ("user", "alice", "example")
    assert wa.call("GET", "/token/", value["token"])[1]["result"]["value"]["count"] == 1
    status, body = auth(wa, params | signed.wire())  # the challenge is answered once
    assert status == 401 and "token" not in body["result"].get("value", {}), body


def test_a_tampered_or_foreign_answer_does_not_log_in(wa: Api) -> None:
    authenticator = SoftAuthenticator()
    register(wa, authenticator, pin="1234")
    wa.policy("ui", scope="webui", action="login_mode=privacyIDEA", realm="example")
    challenge = pin_challenge(wa)
    nonce = unb64(challenge["attributes"]["webAuthnSignRequest"]["challenge"])
    params = {"username": "alice", "realm": "example", "password": "", "transaction_id": challenge["transaction_id"]}
    status, body = auth(wa, params | authenticator.assert_(nonce, tamper=True).wire())
    assert status == 401, body
    status, body = auth(wa, params | SoftAuthenticator().assert_(nonce).wire())  # a key never registered
    assert status == 401, body


def test_a_malformed_answer_is_an_error_naming_the_field(wa: Api) -> None:
    authenticator = SoftAuthenticator()
    serial = register(wa, authenticator, pin="1234")
    wa.policy("ui", scope="webui", action="login_mode=privacyIDEA", realm="example")
    challenge = pin_challenge(wa)
    signed = authenticator.assert_(unb64(challenge["attributes"]["webAuthnSignRequest"]["challenge"])).wire()
    params = {"username": "alice", "realm": "example", "password": "", "transaction_id": challenge["transaction_id"]}
    status, body = auth(wa, params | signed | {"clientdata": "not*base64"})
    assert status in (400, 401) and "clientdata" in body["result"]["error"]["message"], body
    assert wa.core.token(serial).count == 0
    status, body = auth(wa, params | signed)  # the challenge is still open
    assert status == 200, body
