"""Fixtures of the WebAuthn tests: the REST API (SQLite and PostgreSQL) deciding by stored
policies, with the relying party policies set, and helpers that run both round trips."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tesserad.core.policy.auth import PolicyAuthPolicies

from tests.http.restapi import Api, api  # noqa: F401  (a fixture)
from tests.softauthn import SoftAuthenticator

ORIGIN = "https://tessera.example"
RP_ID = "tessera.example"


def unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@pytest.fixture
def wa(api: Api) -> Api:  # noqa: F811
    api.core.auth.engine.policies = PolicyAuthPolicies(api.ctx.policies, "node", directory=api.core.directory)
    api.policy("rp", scope="enrollment",
               action=f"webauthn_relying_party_id={RP_ID}, webauthn_relying_party_name=Tessera")
    return api


def init(api: Api, token: str | None = None, origin: str | None = ORIGIN, **params: str) -> tuple[int, Any]:
    headers = {"Origin": origin} if origin else {}
    return api.call("POST", "/token/init", token or api.admin(), params, headers=headers)


def steps(api: Api, auth: SoftAuthenticator, user: str = "alice", fmt: str = "packed",
          **params: str) -> tuple[int, Any, str]:
    """Both enrollment steps: the second's status and body, and the serial."""
    status, body = init(api, type="webauthn", user=user, **params)
    assert status == 200, body
    request = body["detail"]["webAuthnRegisterRequest"]
    done = auth.register(unb64(request["nonce"]), fmt=fmt)
    status, body = init(api, type="webauthn", user=user, transaction_id=request["transaction_id"], **done.wire())
    auth.user_handle = request["serialNumber"].encode()
    return status, body, request["serialNumber"]


def register(api: Api, auth: SoftAuthenticator, user: str = "alice", fmt: str = "packed", **params: str) -> str:
    """Both enrollment steps, which succeed; the serial of the new token."""
    status, body, serial = steps(api, auth, user, fmt, **params)
    assert status == 200 and body["result"]["value"] is True, body
    return serial


def refused(api: Api, auth: SoftAuthenticator, **params: str) -> str:
    """Both enrollment steps, the second refused: its error message."""
    status, body, _ = steps(api, auth, **params)
    assert status == 400, body
    return body["result"]["error"]["message"]


def check(api: Api, origin: str | None = ORIGIN, **params: str) -> tuple[int, Any]:
    headers = {"Origin": origin} if origin else {}
    return api.call("POST", "/validate/check", None, params, headers=headers)


def challenge(api: Api, user: str = "alice", password: str = "") -> dict[str, Any]:
    status, body = check(api, user=user, **{"pass": password})
    assert status == 200 and body["result"]["authentication"] == "CHALLENGE", body
    return body["detail"]


def answer(api: Api, auth: SoftAuthenticator, detail: dict[str, Any], user: str = "alice",
           header: str | None = ORIGIN, **knobs: Any) -> tuple[int, Any]:
    """Sign the challenge's nonce (``knobs`` for the authenticator, e.g. the client data's
    ``origin``) and send the answer to /validate/check with the Origin ``header``."""
    found = next(c for c in detail["multi_challenge"] if c["type"] == "webauthn")
    sign_request = found["attributes"]["webAuthnSignRequest"]
    signed = auth.assert_(unb64(sign_request["challenge"]), **knobs)
    return check(api, origin=header, user=user, transaction_id=found["transaction_id"], **{"pass": ""},
                 **signed.wire())
