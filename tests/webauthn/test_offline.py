"""WebAuthn is not offered for the ``offline`` machine application (as in privacyIDEA 3.8):
attaching a WebAuthn token to it is refused and nothing is stored."""

from __future__ import annotations

from tests.http.restapi import Api
from tests.softauthn import SoftAuthenticator
from tests.webauthn.conftest import register


def test_a_webauthn_token_cannot_be_attached_offline(wa: Api) -> None:
    serial = register(wa, SoftAuthenticator())
    admin = wa.admin()
    status, body = wa.call("POST", "/machine/token", admin, {"serial": serial, "application": "offline"})
    assert (status, body["result"]["error"]["message"]) == (
        400, "ERR301: application offline works with hotp tokens, not webauthn")
    assert wa.call("GET", "/machine/token", admin, {"serial": serial})[1]["result"]["value"] == []
