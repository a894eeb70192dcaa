"""Passkeys through the HTTP API, as privacyIDEA 3.11 speaks them: two-step enrolment with
/token/init (by the user in self-service and by an admin for a user), then a usernameless
login: /validate/initialize opens a challenge for nobody, the answer to /validate/check
names the user by its credential. The authenticator is tests/softauthn.py, which shares no
code with the server."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, select

from tesserad.core.auth.passkey_login import parse_answer
from tesserad.core.auth.request import AuthRequest
from tesserad.core.policy.auth import PolicyAuthPolicies
from tesserad.core.store.models import AuditEntry, Challenge, Token, TokenCredential

from tests.http.restapi import Api
from tests.softauthn import Assertion, AttestationCA, SoftAuthenticator, websafe

ORIGIN = "https://tessera.example"
RP = {"webauthn_relying_party_id": "tessera.example", "webauthn_relying_party_name": "Tessera"}


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def stored(api: Api) -> Api:
    """The engine decides by the stored policies; the relying party is set for everyone."""
    api.core.auth.engine.policies = PolicyAuthPolicies(api.ctx.policies, "node", directory=api.core.directory)
    api.policy("rp", scope="enrollment", action=f"webauthn_relying_party_id={RP['webauthn_relying_party_id']}, "
                                                f"webauthn_relying_party_name={RP['webauthn_relying_party_name']}")
    return api


def enroll(api: Api, jwt: str, authenticator: SoftAuthenticator, user: str | None = None, serial: str | None = None,
           **extra: str) -> tuple[str, dict[str, Any]]:
    """Both steps (of the token ``serial``, or a new one); the serial and the second answer's body."""
    params = {"type": "passkey", **({"user": user} if user else {}), **({"serial": serial} if serial else {})}
    status, body = api.call("POST", "/token/init", jwt, params)
    assert status == 200, body
    detail = body["detail"]
    options = detail["passkey_registration"]
    authenticator.user_handle = unb64(options["user"]["id"])
    registration = authenticator.register(unb64(options["challenge"]))
    second = {"type": "passkey", "serial": detail["serial"], "transaction_id": detail["transaction_id"],
              "attestationObject": websafe(registration.regdata), "clientDataJSON": websafe(registration.clientdata),
              "credential_id": websafe(registration.credential_id), "rawId": websafe(registration.credential_id),
              "authenticatorAttachment": "platform", **({"user": user} if user else {}), **extra}
    status, body = api.call("POST", "/token/init", jwt, second, headers={"Origin": ORIGIN})
    return detail["serial"], body


def fido2(assertion: Assertion) -> dict[str, str]:
    """privacyIDEA 3.11's names of a passkey answer (userHandle web-safe base64, as browsers' JSON)."""
    return {"credential_id": websafe(assertion.credential_id), "clientDataJSON": websafe(assertion.clientdata),
            "authenticatorData": websafe(assertion.authenticatordata), "signature": websafe(assertion.signature),
            "userHandle": websafe(assertion.userhandle or b"")}


def initialize(api: Api) -> dict[str, Any]:
    status, body = api.call("POST", "/validate/initialize", None, {"type": "passkey"})
    assert status == 200, body
    return body


def answer(api: Api, transaction_id: str, assertion_wire: dict[str, str], origin: str = ORIGIN) -> tuple[int, Any]:
    return api.call("POST", "/validate/check", None, {"transaction_id": transaction_id, **assertion_wire},
                    headers={"Origin": origin})


def login(api: Api, authenticator: SoftAuthenticator, **knobs: Any) -> tuple[int, Any]:
    body = initialize(api)
    challenge = unb64(body["detail"]["passkey"]["challenge"])
    return answer(api, body["detail"]["transaction_id"], fido2(authenticator.assert_(challenge, **knobs)))


def counts(api: Api) -> tuple[int, int, int]:
    with api.core.database.session() as session:
        return (session.scalar(select(func.count()).select_from(Token)) or 0,
                session.scalar(select(func.count()).select_from(Challenge)) or 0,
                session.scalar(select(func.count()).select_from(TokenCredential)) or 0)


@pytest.mark.policy_action("enrollment", "webauthn_relying_party_id")
@pytest.mark.policy_action("enrollment", "webauthn_relying_party_name")
@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "RS256"])
def test_self_service_enrolment_then_usernameless_login(stored: Api, alg: str) -> None:
    authenticator = SoftAuthenticator(alg=alg)
    alice = stored.user("alice")
    first = stored.call("POST", "/token/init", alice, {"type": "passkey"})[1]["detail"]
    options = first["passkey_registration"]
    assert options["rp"] == {"id": "tessera.example", "name": "Tessera"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["user"]["name"] == "alice" and first["rollout_state"] == "clientwait"
    assert first["serial"].startswith("PIPK") and len(first["transaction_id"]) == 20
    serial, body = enroll(stored, alice, authenticator)
    assert body["result"]["status"] is True, body
    token = stored.core.token(serial)
    assert (token.rollout_state, token.active) == ("enrolled", True)

    status, body = login(stored, authenticator)
    assert status == 200 and body["result"] == {"status": True, "value": True, "authentication": "ACCEPT"}
    assert body["detail"]["username"] == "alice" and body["detail"]["realm"] == "example"
    assert body["detail"]["serial"] == serial and body["detail"]["type"] == "passkey"
    with stored.core.database.session() as session:
        row = session.scalars(select(AuditEntry).where(AuditEntry.action == "POST /validate/check")
                              .order_by(AuditEntry.id.desc())).first()
        assert row is not None and (row.user, row.success, row.serial) == ("alice", True, serial)


def test_admin_enrols_for_a_user_and_the_user_handle_stays(stored: Api) -> None:
    admin = stored.admin()
    first, second = SoftAuthenticator(), SoftAuthenticator()
    serial1, body = enroll(stored, admin, first, user="bob")
    assert body["result"]["value"] is True
    serial2, body = enroll(stored, admin, second, user="bob")
    assert body["result"]["value"] is True
    assert first.user_handle == second.user_handle  # one account per user on the authenticator
    status, body = api_init(stored, admin, {"type": "passkey", "user": "bob"})
    excluded = {unb64(c["id"]) for c in body["detail"]["passkey_registration"]["excludeCredentials"]}
    assert excluded == {first.credential_id, second.credential_id}
    assert login(stored, second)[1]["detail"]["username"] == "bob"
    assert login(stored, first)[1]["detail"]["serial"] == serial1


def api_init(api: Api, jwt: str, params: dict[str, str]) -> tuple[int, Any]:
    return api.call("POST", "/token/init", jwt, params)


def test_enrolment_refusals(api: Api, stored: Api) -> None:
    admin = stored.admin()
    status, body = api_init(stored, admin, {"type": "passkey"})
    assert (status, body["result"]["error"]["message"]) == (400, "ERR905: A user is required to enroll a passkey")
    # The answer must come from the page of the relying party, to the open registration, once.
    authenticator = SoftAuthenticator()
    serial, body = enroll(stored, admin, authenticator, user="carol", transaction_id="1" * 20)
    assert body["result"]["status"] is False and "No open passkey registration" in body["result"]["error"]["message"]
    assert stored.core.token(serial).rollout_state == "clientwait"
    _, body = enroll(stored, admin, SoftAuthenticator(origin="https://evil.example"), user="carol")
    assert body["result"]["status"] is False and "origin" in body["result"]["error"]["message"].lower()
    before = counts(stored)
    _, body = enroll(stored, admin, SoftAuthenticator(rp_id="evil.example"), user="carol")
    assert body["result"]["status"] is False
    assert counts(stored)[2] == before[2]


def test_enrolment_without_relying_party_policy_is_refused(api: Api) -> None:
    status, body = api_init(api, api.admin(), {"type": "passkey", "user": "alice",
                                               "webauthn_relying_party_id": "attacker.example",
                                               "webauthn_relying_party_name": "x"})
    assert status == 400 and "webauthn_relying_party_id" in body["result"]["error"]["message"]


def test_login_refusals(stored: Api) -> None:
    authenticator = SoftAuthenticator()
    serial, _ = enroll(stored, stored.user("alice"), authenticator)
    body = initialize(stored)
    transaction_id, challenge = body["detail"]["transaction_id"], unb64(body["detail"]["passkey"]["challenge"])
    assert body["result"]["authentication"] == "CHALLENGE" and body["detail"]["passkey"]["rpId"] == "tessera.example"
    for knobs, reason in (({"origin": "https://evil.example"}, "origin"), ({"rp_id": "evil.example"}, "rp"),
                          ({"tamper": True}, "signature")):
        status, refused = answer(stored, transaction_id, fido2(authenticator.assert_(challenge, **knobs)),
                                 origin=knobs.get("origin", ORIGIN))
        assert status == 200 and refused["result"]["authentication"] == "REJECT", (knobs, refused)
        assert reason in refused["detail"]["message"].lower()
    other = initialize(stored)["detail"]
    status, refused = answer(stored, transaction_id, fido2(authenticator.assert_(unb64(other["passkey"]["challenge"]))))
    assert refused["result"]["value"] is False  # an assertion for another challenge
    good = fido2(authenticator.assert_(challenge))
    assert answer(stored, transaction_id, good)[1]["result"]["value"] is True
    status, replayed = answer(stored, transaction_id, good)
    assert replayed["result"]["value"] is False and "No open passkey challenge" in replayed["detail"]["message"]


def test_counter_going_back_is_refused_and_audited(stored: Api) -> None:
    authenticator = SoftAuthenticator(counter=10)
    serial, _ = enroll(stored, stored.user("alice"), authenticator)
    assert login(stored, authenticator)[1]["result"]["value"] is True  # counter 11
    status, body = login(stored, authenticator, counter=5)
    assert body["result"]["value"] is False and "cloned" in body["detail"]["message"]
    assert stored.core.token(serial).count == 11
    with stored.core.database.session() as session:
        row = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert row is not None and row.success is False and "cloned" in row.info and row.user == "alice"


def test_another_users_credential_cannot_log_in_as_them(stored: Api) -> None:
    alices, bobs = SoftAuthenticator(), SoftAuthenticator()
    enroll(stored, stored.user("alice"), alices)
    enroll(stored, stored.user("bob"), bobs)
    body = initialize(stored)
    wire = fido2(bobs.assert_(unb64(body["detail"]["passkey"]["challenge"])))
    wire["credential_id"] = websafe(alices.credential_id)  # bob's signature under alice's credential
    status, refused = answer(stored, body["detail"]["transaction_id"], wire)
    assert refused["result"]["value"] is False and refused["detail"].get("username") is None


def test_bad_input_changes_nothing(stored: Api) -> None:
    authenticator = SoftAuthenticator()
    enroll(stored, stored.user("alice"), authenticator)
    body = initialize(stored)
    transaction_id, challenge = body["detail"]["transaction_id"], unb64(body["detail"]["passkey"]["challenge"])
    good = fido2(authenticator.assert_(challenge))
    before = counts(stored)
    cases = {
        "clientdata": ({**good, "clientDataJSON": "not base64!"}, "clientDataJSON is not web-safe base64"),
        "truncated": ({**good, "authenticatorData": websafe(b"\x01\x02")}, "authenticatordata is truncated"),
        "type": ({**good, "clientDataJSON": websafe(b'{"type":"webauthn.create","challenge":"AA","origin":"x"}')},
                 "expected 'webauthn.get'"),
        "unknown": ({**good, "credential_id": websafe(b"\x00" * 32)}, "No token found for the given credential ID"),
    }
    for name, (wire, message) in cases.items():
        status, refused = answer(stored, transaction_id, wire)
        assert status in (400, 404) and refused["result"]["status"] is False, name
        assert message in refused["result"]["error"]["message"], (name, refused)
    status, refused = stored.call("POST", "/validate/check", None,
                                  {"transaction_id": transaction_id, **good, "clientDataJSON": "A" * (1024 * 1024)},
                                  headers={"Origin": ORIGIN})
    assert status == 413 or refused["result"]["status"] is False
    status, refused = answer(stored, transaction_id, good, origin="")
    assert "Origin header is required" in refused["result"]["error"]["message"]
    assert counts(stored) == before
    _, reg = stored.call("POST", "/token/init", stored.user("bob"), {"type": "passkey"})
    detail = reg["detail"]
    registration = SoftAuthenticator().register(unb64(detail["passkey_registration"]["challenge"]))
    status, refused = stored.call("POST", "/token/init", stored.user("bob"), {
        "type": "passkey", "serial": detail["serial"], "transaction_id": detail["transaction_id"],
        "attestationObject": websafe(registration.regdata[: len(registration.regdata) // 2]),
        "clientDataJSON": websafe(registration.clientdata)}, headers={"Origin": ORIGIN})
    assert status == 400 and "not a CBOR attestation object" in refused["result"]["error"]["message"]
    assert stored.core.token(detail["serial"]).rollout_state == "clientwait"
    assert initialize_error(stored, {"type": "hotp"}) == "ERR905: Unsupported token type 'hotp' for " \
                                                          "authentication initialization!"


def initialize_error(api: Api, params: dict[str, str]) -> str:
    status, body = api.call("POST", "/validate/initialize", None, params)
    assert status == 400
    return str(body["result"]["error"]["message"])


def test_initialize_needs_the_relying_party_policy(api: Api) -> None:
    api.core.auth.engine.policies = PolicyAuthPolicies(api.ctx.policies, "node", directory=api.core.directory)
    status, body = api.call("POST", "/validate/initialize", None, {"type": "passkey"})
    assert status == 403 and "webauthn_relying_party_id" in body["result"]["error"]["message"]


def test_passkeys_are_not_passwords(stored: Api) -> None:
    """PIN+OTP (what RADIUS and PAM carry) can never use a passkey: a passkey-only user is rejected."""
    enroll(stored, stored.user("alice"), SoftAuthenticator())
    for password in ("", "123456"):
        result = stored.core.check(password, "alice")
        assert not result.accepted and not result.challenges


def test_twenty_concurrent_answers_one_accept(stored: Api) -> None:
    authenticator = SoftAuthenticator()
    enroll(stored, stored.user("alice"), authenticator)
    body = initialize(stored)
    transaction_id, challenge = body["detail"]["transaction_id"], unb64(body["detail"]["passkey"]["challenge"])
    # Counter 0 forever (an authenticator without a counter): only the challenge stops a second answer.
    wire = fido2(authenticator.assert_(challenge, counter=0))
    parsed = parse_answer({"transaction_id": transaction_id, **wire}, ORIGIN)
    service = stored.core.auth

    def one(_: int) -> bool:
        return service.passkey_login(AuthRequest(password=""), parsed).accepted

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert results.count(True) == 1


@pytest.mark.policy_action("admin", "enrollPASSKEY")
@pytest.mark.policy_action("user", "enrollPASSKEY")
def test_enroll_passkey_rights(stored: Api) -> None:
    stored.policy("admins", scope="admin", action="enrollHOTP, assign")
    status, body = api_init(stored, stored.admin(), {"type": "passkey", "user": "alice"})
    assert status == 403 and "enrollPASSKEY" in body["result"]["error"]["message"]
    stored.policy("admins", scope="admin", action="enrollPASSKEY, assign")
    assert enroll(stored, stored.admin(), SoftAuthenticator(), user="alice")[1]["result"]["value"] is True
    stored.policy("users", scope="user", action="enrollHOTP", realm="example")
    status, body = api_init(stored, stored.user("bob"), {"type": "passkey"})
    assert status == 403 and "enrollPASSKEY" in body["result"]["error"]["message"]
    stored.policy("users", scope="user", action="enrollPASSKEY", realm="example")
    assert enroll(stored, stored.user("bob"), SoftAuthenticator())[1]["result"]["value"] is True


@pytest.mark.parametrize("action", [
    pytest.param("passkey_max_token_per_user", marks=pytest.mark.policy_action("enrollment",
                                                                                "passkey_max_token_per_user")),
    pytest.param("passkey_max_active_token_per_user",
                 marks=pytest.mark.policy_action("enrollment", "passkey_max_active_token_per_user"))])
def test_passkey_limits_per_user(stored: Api, action: str) -> None:
    stored.policy("limit", scope="enrollment", action=f"{action}=1")
    alice = stored.user("alice")
    assert enroll(stored, alice, SoftAuthenticator())[1]["result"]["value"] is True
    stored.core.enroll("alice", type="hotp", otpkey="3132333435363738393031323334353637383930")  # another type
    status, body = api_init(stored, alice, {"type": "passkey"})
    assert status == 403 and "passkey tokens for this user is limited" in body["result"]["error"]["message"]


@pytest.mark.policy_action("webui", "login_mode")
def test_usernameless_login_to_the_ui(stored: Api) -> None:
    authenticator = SoftAuthenticator()
    enroll(stored, stored.user("alice"), authenticator)

    def ui_login() -> tuple[int, Any]:
        body = initialize(stored)
        wire = fido2(authenticator.assert_(unb64(body["detail"]["passkey"]["challenge"])))
        return stored.call("POST", "/auth", None, {"transaction_id": body["detail"]["transaction_id"], **wire},
                           headers={"Origin": ORIGIN})

    status, body = ui_login()  # login_mode userstore: tokens do not log in to the UI
    assert status == 401 and "Passkeys do not log in" in body["result"]["error"]["message"]
    stored.policy("ui", scope="webui", action="login_mode=privacyIDEA", realm="example")
    status, body = ui_login()
    assert status == 200, body
    value = body["result"]["value"]
    assert (value["role"], value["username"], value["realm"]) == ("user", "alice", "example")
    status, body = stored.call("GET", "/token/", value["token"])
    assert status == 200 and body["result"]["value"]["count"] == 1
    body = initialize(stored)
    wire = fido2(authenticator.assert_(unb64(body["detail"]["passkey"]["challenge"]), tamper=True))
    status, body = stored.call("POST", "/auth", None, {"transaction_id": body["detail"]["transaction_id"], **wire},
                               headers={"Origin": ORIGIN})
    assert status == 401 and body["result"]["error"]["message"].endswith("Wrong credentials")


@pytest.mark.policy_action("authentication", "passkey_trigger_by_pin")
@pytest.mark.parametrize("names", ["webauthn", "fido2"])
def test_passkey_as_second_step_after_the_pin(stored: Api, names: str) -> None:
    authenticator = SoftAuthenticator()
    serial, _ = enroll(stored, stored.user("alice"), authenticator)
    admin = stored.admin()
    assert stored.call("POST", "/token/setpin", admin, {"serial": serial, "otppin": "4321"})[0] == 200
    check = {"user": "alice", "pass": "4321"}
    body = stored.call("POST", "/validate/check", None, check)[1]
    assert body["result"]["authentication"] == "REJECT"  # without the policy a PIN starts nothing
    assert stored.call("POST", "/validate/triggerchallenge", admin, {"user": "alice"})[1]["result"]["value"] == 0
    stored.policy("pin", scope="authentication", action="passkey_trigger_by_pin")
    body = stored.call("POST", "/validate/check", None, check)[1]
    assert body["result"]["authentication"] == "CHALLENGE", body
    (offered,) = body["detail"]["multi_challenge"]
    assert (offered["serial"], offered["client_mode"]) == (serial, "webauthn")
    sign_request = offered["attributes"]["webAuthnSignRequest"]
    assert sign_request["rpId"] == "tessera.example"
    assert sign_request["allowCredentials"][0]["id"] == websafe(authenticator.credential_id)
    signed = authenticator.assert_(unb64(sign_request["challenge"]))
    wire = {"credentialid": websafe(signed.credential_id), "clientdata": websafe(signed.clientdata),
            "authenticatordata": websafe(signed.authenticatordata), "signaturedata": websafe(signed.signature),
            "userhandle": websafe(signed.userhandle or b"")} if names == "webauthn" else fido2(signed)
    answer_params = {"user": "alice", "pass": "", "transaction_id": offered["transaction_id"], **wire}
    status, body = stored.call("POST", "/validate/check", None, answer_params, headers={"Origin": ORIGIN})
    assert status == 200 and body["result"]["value"] is True, body
    status, body = stored.call("POST", "/validate/check", None, answer_params, headers={"Origin": ORIGIN})
    assert body["result"]["value"] is False  # answered once
    assert stored.call("POST", "/validate/triggerchallenge", admin, {"user": "alice"})[1]["result"]["value"] == 1


@pytest.mark.policy_action("authentication", "webauthn_user_verification_requirement")
def test_user_verification_required_by_policy(stored: Api) -> None:
    authenticator = SoftAuthenticator()
    enroll(stored, stored.user("alice"), authenticator)
    assert login(stored, authenticator, user_verified=False)[1]["result"]["value"] is True  # preferred
    stored.policy("uv", scope="authentication", action="webauthn_user_verification_requirement=required")
    body = initialize(stored)
    assert body["detail"]["passkey"]["user_verification"] == "required"
    status, body = login(stored, authenticator, user_verified=False)
    assert body["result"]["value"] is False and "verif" in body["detail"]["message"].lower()
    assert login(stored, authenticator)[1]["result"]["value"] is True


def test_a_deleted_or_reenrolled_passkey_forgets_its_credential(stored: Api) -> None:
    admin, first, second = stored.admin(), SoftAuthenticator(), SoftAuthenticator()
    serial, _ = enroll(stored, admin, first, user="alice")
    assert stored.call("POST", "/token/unassign", admin, {"serial": serial})[0] == 200
    enroll(stored, admin, second, user="alice", serial=serial)  # the same token enrolled again
    assert login(stored, second)[1]["result"]["value"] is True
    status, body = login(stored, first)
    assert status == 404 and "No token found" in body["result"]["error"]["message"]
    assert counts(stored)[2] == 1
    assert stored.call("DELETE", f"/token/{serial}", admin)[0] == 200
    assert counts(stored)[2] == 0
    again, body = enroll(stored, admin, second, user="bob")  # the credential may be registered anew
    assert body["result"]["value"] is True and login(stored, second)[1]["detail"]["username"] == "bob"


@pytest.mark.policy_action("enrollment", "webauthn_user_verification_requirement")
def test_enrolment_may_require_user_verification(stored: Api) -> None:
    stored.policy("uv", scope="enrollment", action="webauthn_user_verification_requirement=required")
    status, body = api_init(stored, stored.user("alice"), {"type": "passkey"})
    assert body["detail"]["passkey_registration"]["authenticatorSelection"]["userVerification"] == "required"
    _, body = enroll(stored, stored.user("alice"), SoftAuthenticator(user_verified=False))
    assert body["result"]["status"] is False and "verif" in body["result"]["error"]["message"].lower()
    assert enroll(stored, stored.user("alice"), SoftAuthenticator())[1]["result"]["value"] is True


def test_bad_enrolment_input_changes_nothing(stored: Api) -> None:
    bob = stored.user("bob")
    detail = api_init(stored, bob, {"type": "passkey"})[1]["detail"]
    registration = SoftAuthenticator().register(unb64(detail["passkey_registration"]["challenge"]))
    good = {"type": "passkey", "serial": detail["serial"], "transaction_id": detail["transaction_id"],
            "attestationObject": websafe(registration.regdata), "clientDataJSON": websafe(registration.clientdata)}
    before = counts(stored)
    for params, headers, message in (
            ({**good, "attestationObject": "%%%"}, {"Origin": ORIGIN}, "attestationObject is not web-safe base64"),
            ({**good, "clientDataJSON": "A" * 20000}, {"Origin": ORIGIN}, "clientDataJSON is longer than"),
            (good, {}, "The Origin header is required"),
            ({**good, "credential_id": websafe(b"other")}, {"Origin": ORIGIN}, "not the id of the attested")):
        status, body = stored.call("POST", "/token/init", bob, params, headers=headers)
        assert status == 400 and message in body["result"]["error"]["message"], (message, body)
    assert counts(stored) == before and stored.core.token(detail["serial"]).rollout_state == "clientwait"
    status, body = stored.call("POST", "/token/init", bob, {**good, "clientDataJSON": "A" * (1024 * 1024)},
                               headers={"Origin": ORIGIN})
    assert body["result"]["status"] is False and counts(stored) == before
    assert stored.call("POST", "/token/init", bob, good, headers={"Origin": ORIGIN})[1]["result"]["value"] is True


@pytest.mark.policy_action("enrollment", "webauthn_authenticator_attestation_level")
def test_a_passkey_checks_attestation_only_when_the_level_is_set(stored: Api, tmp_path) -> None:
    alice = stored.user("alice")
    assert api_init(stored, alice, {"type": "passkey"})[1]["detail"]["passkey_registration"]["attestation"] == "none"
    vendor = AttestationCA()
    (tmp_path / "root.pem").write_bytes(vendor.root.public_bytes(Encoding.PEM))
    status, _ = stored.call("POST", "/system/setConfig", stored.admin(), {"webauthn.trust_anchor_dir": str(tmp_path)})
    assert status == 200
    stored.policy("level", scope="enrollment", action="webauthn_authenticator_attestation_level=trusted")
    assert api_init(stored, alice, {"type": "passkey"})[1]["detail"]["passkey_registration"]["attestation"] == "direct"
    before = counts(stored)
    _, body = enroll(stored, alice, SoftAuthenticator())
    assert "self attestation is not permitted" in body["result"]["error"]["message"]
    _, body = enroll(stored, alice, SoftAuthenticator(vendor=AttestationCA()))
    assert "registration refused" in body["result"]["error"]["message"]
    assert counts(stored)[1:] == before[1:]  # no credential filed (the open enrolments are rows of their own)
    assert enroll(stored, alice, SoftAuthenticator(vendor=vendor))[1]["result"]["value"] is True
