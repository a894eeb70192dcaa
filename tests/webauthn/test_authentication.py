"""Authentication with a WebAuthn token: the PIN (or triggerchallenge) asks for an
assertion, /validate/check takes it with the transaction id and the Origin header."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tesserad.core.store.models import AuditEntry

from tests.http.restapi import Api
from tests.softauthn import AttestationCA, SoftAuthenticator, websafe
from tests.webauthn.conftest import RP_ID, answer, challenge, check, register, unb64


def accepted(body: dict) -> bool:
    return body["result"].get("authentication") == "ACCEPT"


def count(api: Api, serial: str) -> int:
    return api.call("GET", "/token/", api.admin(), {"serial": serial})[1]["result"]["value"]["tokens"][0]["count"]


def last_audit_info(api: Api) -> str:
    with api.core.database.session() as session:
        return session.scalars(select(AuditEntry.info).order_by(AuditEntry.id.desc()).limit(1)).one()


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_pin_then_assertion_logs_in(wa: Api, alg: str) -> None:
    wa.policy("algs", scope="enrollment", action="webauthn_public_key_credential_algorithms=ecdsa rsassa-pkcs1v1_5")
    auth = SoftAuthenticator(alg=alg)
    serial = register(wa, auth, pin="1234")
    detail = challenge(wa, password="1234")
    assert detail["client_mode"] == "webauthn" and detail["preferred_client_mode"] == "webauthn"
    only = detail["multi_challenge"][0]
    assert (only["serial"], only["type"], only["message"]) == (serial, "webauthn",
                                                               "Please confirm with your WebAuthn token")
    sign = only["attributes"]["webAuthnSignRequest"]
    assert sign["rpId"] == RP_ID and sign["timeout"] == 60000 and sign["userVerification"] == "preferred"
    assert sign["allowCredentials"] == [{"id": websafe(auth.credential_id), "type": "public-key",
                                         "transports": ["usb", "ble", "nfc", "internal"]}]
    status, body = answer(wa, auth, detail)
    assert status == 200 and accepted(body), body
    assert body["detail"]["serial"] == serial and count(wa, serial) == 1


def test_wrong_pin_asks_for_nothing(wa: Api) -> None:
    register(wa, SoftAuthenticator(), pin="1234")
    status, body = check(wa, user="alice", **{"pass": "9999"})
    assert status == 200 and body["result"]["authentication"] == "REJECT"


def test_triggerchallenge_then_answer(wa: Api) -> None:
    auth = SoftAuthenticator()
    register(wa, auth)
    status, body = wa.call("POST", "/validate/triggerchallenge", wa.admin(), {"user": "alice"})
    assert status == 200 and body["result"]["value"] == 1
    assert accepted(answer(wa, auth, body["detail"])[1])


@pytest.mark.parametrize(("knobs", "reason"), [
    ({"origin": "https://evil.example"}, "Unexpected client data origin"),
    ({"rp_id": "evil.example"}, "Unexpected RP ID hash"),
    ({"tamper": True}, "Could not verify authentication signature"),
])
def test_a_wrong_answer_is_rejected_with_its_reason_in_the_audit(wa: Api, knobs: dict, reason: str) -> None:
    auth = SoftAuthenticator()
    serial = register(wa, auth)
    status, body = answer(wa, auth, challenge(wa), **knobs)
    assert status == 200 and body["result"]["authentication"] == "REJECT"
    assert body["detail"]["message"].startswith("Response did not match the challenge.")
    assert reason in last_audit_info(wa)
    assert count(wa, serial) == 0


def test_the_origin_header_must_match_the_client_data(wa: Api) -> None:
    auth = SoftAuthenticator()
    register(wa, auth)
    status, body = answer(wa, auth, challenge(wa), header="https://evil.example")
    assert not accepted(body)
    assert "is not of the relying party" in last_audit_info(wa)
    # Both agree on an origin outside the relying party: refused all the same.
    status, body = answer(wa, auth, challenge(wa), header="https://evil.example", origin="https://evil.example")
    assert not accepted(body)
    assert "the origin 'https://evil.example' is not of the relying party 'tessera.example'" in last_audit_info(wa)
    status, body = answer(wa, auth, challenge(wa), header=None)
    assert (status, body["result"]["error"]["code"]) == (400, 905)
    assert "Origin header" in body["result"]["error"]["message"]


def test_a_counter_that_goes_back_is_refused_as_a_cloned_authenticator(wa: Api) -> None:
    auth = SoftAuthenticator()
    serial = register(wa, auth)
    assert accepted(answer(wa, auth, challenge(wa), counter=7)[1])
    assert count(wa, serial) == 7
    status, body = answer(wa, auth, challenge(wa), counter=5)
    assert not accepted(body)
    assert "cloned authenticator" in body["detail"]["message"] and "cloned authenticator" in last_audit_info(wa)
    assert count(wa, serial) == 7
    assert accepted(answer(wa, auth, challenge(wa), counter=8)[1])


def test_an_authenticator_without_a_counter_keeps_sending_zero(wa: Api) -> None:
    auth = SoftAuthenticator()
    register(wa, auth)
    for _ in range(2):
        assert accepted(answer(wa, auth, challenge(wa), counter=0)[1])


def test_a_challenge_is_answered_once(wa: Api) -> None:
    auth = SoftAuthenticator()
    register(wa, auth)
    detail = challenge(wa)
    found = detail["multi_challenge"][0]
    signed = auth.assert_(unb64(found["attributes"]["webAuthnSignRequest"]["challenge"]))
    params = {"user": "alice", "pass": "", "transaction_id": found["transaction_id"], **signed.wire()}
    assert accepted(check(wa, **params)[1])
    assert not accepted(check(wa, **params)[1])


@pytest.mark.policy_action("authentication", "webauthn_user_verification_requirement")
def test_user_verification_required_at_login(wa: Api) -> None:
    auth = SoftAuthenticator(user_verified=False)
    register(wa, auth)
    wa.policy("uv", scope="authentication", action="webauthn_user_verification_requirement=required")
    detail = challenge(wa)
    assert detail["attributes"]["webAuthnSignRequest"]["userVerification"] == "required"
    assert not accepted(answer(wa, auth, detail)[1])
    assert "User verification is required" in last_audit_info(wa)
    assert accepted(answer(wa, auth, challenge(wa), user_verified=True)[1])


@pytest.mark.policy_action("authentication", "webauthn_allowed_transports")
@pytest.mark.policy_action("authentication", "webauthn_timeout")
@pytest.mark.policy_action("authentication", "webauthn_challenge_text")
def test_authentication_policies_shape_the_sign_request(wa: Api) -> None:
    register(wa, SoftAuthenticator())
    wa.policy("shape", scope="authentication", action="webauthn_allowed_transports=usb nfc, webauthn_timeout=20, "
              "webauthn_challenge_text=Touch your key")
    detail = challenge(wa)
    sign = detail["attributes"]["webAuthnSignRequest"]
    assert sign["allowCredentials"][0]["transports"] == ["usb", "nfc"] and sign["timeout"] == 20000
    assert detail["message"] == "Touch your key"


def test_an_otp_cannot_answer_a_webauthn_challenge(wa: Api) -> None:
    auth = SoftAuthenticator()
    register(wa, auth)
    detail = challenge(wa)
    status, body = check(wa, user="alice", transaction_id=detail["transaction_id"], **{"pass": "123456"})
    assert not accepted(body)


@pytest.mark.policy_action("authorization", "webauthn_authenticator_selection_list")
def test_only_listed_authenticator_models_authorize(wa: Api) -> None:
    listed = SoftAuthenticator(aaguid=bytes.fromhex("22" * 16))
    other = SoftAuthenticator()
    register(wa, listed, user="alice")
    register(wa, other, user="bob")
    wa.policy("models", scope="authorization",
              action="webauthn_authenticator_selection_list=22222222-2222-2222-2222-222222222222")
    assert accepted(answer(wa, listed, challenge(wa, "alice"), user="alice")[1])
    status, body = answer(wa, other, challenge(wa, "bob"), user="bob")
    assert (status, body["result"]["error"]["message"]) == (
        403, "ERR303: The WebAuthn token is not allowed to authenticate due to a policy restriction.")


@pytest.mark.policy_action("authorization", "webauthn_req")
def test_only_authenticators_whose_attestation_matches_authorize(wa: Api) -> None:
    vendor = SoftAuthenticator(vendor=AttestationCA(subject="Tessera Key"))
    plain = SoftAuthenticator()
    register(wa, vendor, user="alice", fmt="packed")
    register(wa, plain, user="bob", fmt="packed")
    wa.policy("req", scope="authorization", action="webauthn_req=subject/Tessera Key/")
    assert accepted(answer(wa, vendor, challenge(wa, "alice"), user="alice")[1])
    status, body = answer(wa, plain, challenge(wa, "bob"), user="bob")
    assert (status, body["result"]["error"]["message"]) == (
        403, "ERR303: The WebAuthn token is not allowed to authenticate due to a policy restriction.")
