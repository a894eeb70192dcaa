"""Malformed WebAuthn answers, at enrollment and at login: privacyIDEA's error envelope
(905) with a message that names the field, and nothing changes in the database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tesserad.core.store.models import Challenge, Token, TokenInfo

from tests.http.restapi import Api
from tests.softauthn import SoftAuthenticator, truncated, websafe
from tests.webauthn.conftest import challenge, check, init, register, unb64

MEGABYTE = "A" * 1_000_000


def database(api: Api) -> tuple[Any, ...]:
    """What an answer could change: tokens (state, counters), their info, open challenges."""
    with api.core.database.session() as session:
        tokens = session.execute(select(Token.serial, Token.rollout_state, Token.count, Token.failcount,
                                        Token.count_auth).order_by(Token.serial)).all()
        info = session.execute(select(TokenInfo.token_id, TokenInfo.key, TokenInfo.value)
                               .order_by(TokenInfo.token_id, TokenInfo.key)).all()
        challenges = session.scalar(select(func.count(Challenge.id)))
    return tuple(tokens), tuple(info), challenges


def wrong_type(clientdata: bytes) -> str:
    data = json.loads(clientdata)
    data["type"] = "webauthn.get" if data["type"] == "webauthn.create" else "webauthn.create"
    return websafe(json.dumps(data).encode())


def refused(status: int, body: dict) -> str:
    assert (status, body["result"]["status"], body["result"]["error"]["code"]) == (400, False, 905), body
    return body["result"]["error"]["message"]


ENROLLMENT_CASES = [
    ("clientdata", lambda reg: "not+base64/", "ERR905: clientdata is not web-safe base64"),
    ("regdata", lambda reg: "abcde", "ERR905: regdata is not web-safe base64"),
    ("regdata", lambda reg: websafe(truncated(reg.regdata)),
     "ERR905: regdata is not a CBOR attestation object (truncated or malformed)"),
    ("clientdata", lambda reg: MEGABYTE, "ERR905: clientdata is longer than 16384 characters"),
    ("clientdata", lambda reg: wrong_type(reg.clientdata),
     "ERR905: clientdata has type 'webauthn.get', expected 'webauthn.create'"),
    ("clientdata", lambda reg: websafe(b"{not json"),
     "ERR905: clientdata is not WebAuthn client data JSON: Unable to decode clientDataJSON bytes as JSON"),
]


@pytest.mark.parametrize(("field", "bad", "message"), ENROLLMENT_CASES)
def test_bad_enrollment_answers(wa: Api, field: str, bad: Any, message: str) -> None:
    request = init(wa, type="webauthn", user="alice")[1]["detail"]["webAuthnRegisterRequest"]
    done = SoftAuthenticator().register(unb64(request["nonce"]))
    params = {"type": "webauthn", "user": "alice", "transaction_id": request["transaction_id"], **done.wire()}
    before = database(wa)
    assert refused(*init(wa, **{**params, field: bad(done)})) == message
    assert database(wa) == before
    assert init(wa, **params)[0] == 200  # the enrollment is still open


LOGIN_CASES = [
    ("credentialid", lambda a: "***", "ERR905: credentialid is not web-safe base64"),
    ("authenticatordata", lambda a: websafe(truncated(a.authenticatordata)),
     "ERR905: authenticatordata is truncated or malformed"),
    ("clientdata", lambda a: MEGABYTE, "ERR905: parameter clientdata is longer than 16384 characters or contains NUL"),
    ("clientdata", lambda a: wrong_type(a.clientdata),
     "ERR905: clientdata has type 'webauthn.create', expected 'webauthn.get'"),
    ("signaturedata", lambda a: "a", "ERR905: signaturedata is not web-safe base64"),
    ("clientdata", lambda a: websafe(json.dumps({"type": "webauthn.get"}).encode()),
     'ERR905: clientdata is not WebAuthn client data JSON: clientDataJSON missing required property "challenge"'),
]


@pytest.mark.parametrize(("field", "bad", "message"), LOGIN_CASES)
def test_bad_login_answers(wa: Api, field: str, bad: Any, message: str) -> None:
    auth = SoftAuthenticator()
    register(wa, auth)
    found = challenge(wa)["multi_challenge"][0]
    signed = auth.assert_(unb64(found["attributes"]["webAuthnSignRequest"]["challenge"]))
    params = {"user": "alice", "pass": "", "transaction_id": found["transaction_id"], **signed.wire()}
    before = database(wa)
    assert refused(*check(wa, **{**params, field: bad(signed)})) == message
    assert database(wa) == before
    status, body = check(wa, **params)  # the challenge is still open, and the right answer logs in
    assert body["result"]["authentication"] == "ACCEPT", body


def test_an_answer_without_a_transaction_id_is_refused(wa: Api) -> None:
    auth = SoftAuthenticator()
    register(wa, auth)
    signed = auth.assert_(b"x" * 32)
    assert refused(*check(wa, user="alice", **{"pass": ""}, **signed.wire())) == (
        "ERR905: missing parameter: transaction_id (a WebAuthn answer answers a challenge)")
