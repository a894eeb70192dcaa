"""WebAuthn enrollment through POST /token/init in privacyIDEA's two steps, with the
enrollment policies that shape it."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tests.http.restapi import Api
from tests.softauthn import AttestationCA, SoftAuthenticator
from tests.webauthn.conftest import RP_ID, init, refused, register, unb64


def tokens(api: Api, **query: str) -> list[dict]:
    return api.call("GET", "/token/", api.admin(), query)[1]["result"]["value"]["tokens"]


@pytest.mark.policy_action("enrollment", "webauthn_relying_party_id")
@pytest.mark.policy_action("enrollment", "webauthn_relying_party_name")
def test_step_one_answers_a_register_request(wa: Api) -> None:
    status, body = init(wa, type="webauthn", user="alice", description="my key")
    assert status == 200, body
    detail = body["detail"]
    request = detail["webAuthnRegisterRequest"]
    assert request["relyingParty"] == {"id": RP_ID, "name": "Tessera"}
    assert request["pubKeyCredAlgorithms"] == [{"alg": -7, "type": "public-key"}, {"alg": -37, "type": "public-key"}]
    assert request["authenticatorSelection"] == {"userVerification": "preferred"}
    assert (request["attestation"], request["timeout"], request["name"]) == ("direct", 60000, "alice")
    assert request["displayName"] == "<alice.files@example>"
    assert request["message"] == "Please confirm with your WebAuthn token"
    assert request["serialNumber"] == detail["serial"] and detail["serial"].startswith("WAN")
    assert len(unb64(request["nonce"])) == 32 and "=" not in request["nonce"]
    assert request["transaction_id"].isdigit() and detail["rollout_state"] == "clientwait"


def test_two_steps_register_the_credential(wa: Api) -> None:
    auth = SoftAuthenticator()
    serial = register(wa, auth, fmt="packed")
    token = tokens(wa, serial=serial)[0]
    assert token["rollout_state"] == "" and token["tokentype"] == "webauthn"
    assert token["info"]["relying_party_id"] == RP_ID and token["info"]["attestation_format"] == "packed"
    assert "enroll_nonce" not in token["info"]


def test_without_the_relying_party_policies_step_one_is_refused(api: Api) -> None:
    status, body = init(api, type="webauthn", user="alice")
    assert (status, body["result"]["error"]["code"]) == (400, 905)
    assert body["result"]["error"]["message"] == (
        "ERR905: Missing enrollment policy for WebAuthn token: webauthn_relying_party_id")
    assert tokens(api) == []


def test_the_request_cannot_set_the_relying_party_itself(wa: Api) -> None:
    body = init(wa, type="webauthn", user="alice", webauthn_relying_party_id="evil.example")[1]
    assert body["detail"]["webAuthnRegisterRequest"]["relyingParty"]["id"] == RP_ID


def test_step_two_needs_the_origin_header_and_the_right_origin(wa: Api) -> None:
    auth = SoftAuthenticator()
    request = init(wa, type="webauthn", user="alice")[1]["detail"]["webAuthnRegisterRequest"]
    done = auth.register(unb64(request["nonce"]))
    step2 = {"type": "webauthn", "user": "alice", "transaction_id": request["transaction_id"], **done.wire()}
    status, body = init(wa, origin=None, **step2)
    assert (status, body["result"]["error"]["message"]) == (
        400, "ERR905: The ORIGIN HTTP header must be included, when enrolling a new WebAuthn token.")
    status, body = init(wa, origin="https://evil.example", **step2)
    assert status == 400 and "is not of the relying party" in body["result"]["error"]["message"]
    assert tokens(wa)[0]["rollout_state"] == "clientwait"
    assert init(wa, **step2)[0] == 200


def test_step_two_with_a_foreign_transaction_id_is_refused(wa: Api) -> None:
    request = init(wa, type="webauthn", user="alice")[1]["detail"]["webAuthnRegisterRequest"]
    done = SoftAuthenticator().register(unb64(request["nonce"]))
    status, body = init(wa, type="webauthn", serial=request["serialNumber"], transaction_id="1" * 20, **done.wire())
    assert (status, body["result"]["error"]["code"]) == (400, 905)
    assert tokens(wa)[0]["rollout_state"] == "clientwait"


@pytest.mark.policy_action("enrollment", "webauthn_timeout")
@pytest.mark.policy_action("enrollment", "webauthn_challenge_text")
@pytest.mark.policy_action("enrollment", "webauthn_authenticator_attestation_form")
@pytest.mark.policy_action("enrollment", "webauthn_public_key_credential_algorithms")
@pytest.mark.policy_action("enrollment", "webauthn_authenticator_attachment")
def test_enrollment_policies_shape_the_register_request(wa: Api) -> None:
    wa.policy("shape", scope="enrollment", action="webauthn_timeout=30, webauthn_challenge_text=Touch it, "
              "webauthn_authenticator_attestation_form=none, webauthn_authenticator_attachment=cross-platform, "
              "webauthn_public_key_credential_algorithms=rsassa-pkcs1v1_5")
    request = init(wa, type="webauthn", user="alice")[1]["detail"]["webAuthnRegisterRequest"]
    assert (request["timeout"], request["message"], request["attestation"]) == (30000, "Touch it", "none")
    assert request["authenticatorSelection"] == {"userVerification": "preferred",
                                                 "authenticatorAttachment": "cross-platform"}
    assert request["pubKeyCredAlgorithms"] == [{"alg": -257, "type": "public-key"}]
    assert "Unsupported credential public key alg" in refused(wa, SoftAuthenticator(alg="ES256"))
    register(wa, SoftAuthenticator(alg="RS256"))


@pytest.mark.policy_action("enrollment", "webauthn_user_verification_requirement")
def test_user_verification_required_at_enrollment(wa: Api) -> None:
    wa.policy("uv", scope="enrollment", action="webauthn_user_verification_requirement=required")
    assert "User verification is required" in refused(wa, SoftAuthenticator(user_verified=False))
    register(wa, SoftAuthenticator(user_verified=True))


@pytest.mark.policy_action("enrollment", "webauthn_authenticator_selection_list")
def test_only_listed_authenticator_models_enroll(wa: Api) -> None:
    allowed = bytes.fromhex("11" * 16)
    wa.policy("models", scope="enrollment",
              action="webauthn_authenticator_selection_list=11111111-1111-1111-1111-111111111111")
    assert "may not be enrolled" in refused(wa, SoftAuthenticator())
    register(wa, SoftAuthenticator(aaguid=allowed))


@pytest.mark.policy_action("enrollment", "webauthn_avoid_double_registration")
def test_the_same_authenticator_registers_once_per_user(wa: Api) -> None:
    auth = SoftAuthenticator()
    first = register(wa, auth)
    wa.policy("once", scope="enrollment", action="webauthn_avoid_double_registration")
    request = init(wa, type="webauthn", user="alice")[1]["detail"]["webAuthnRegisterRequest"]
    assert [c["id"] for c in request["excludeCredentials"]] == [tokens(wa, serial=first)[0]["info"]["credential_id"]]
    assert "registered for the user already" in refused(wa, auth)
    register(wa, SoftAuthenticator())


@pytest.mark.parametrize("scope", [
    pytest.param("admin", marks=pytest.mark.policy_action("admin", "enrollWEBAUTHN")),
    pytest.param("user", marks=pytest.mark.policy_action("user", "enrollWEBAUTHN")),
])
def test_enrolling_needs_the_right(wa: Api, scope: str) -> None:
    caller = wa.admin() if scope == "admin" else wa.user("alice")
    who = {"adminuser": "admin"} if scope == "admin" else {}
    wa.policy("rights", scope=scope, action="enrollHOTP, assign", **who)
    params = {"type": "webauthn"} if scope == "user" else {"type": "webauthn", "user": "alice"}
    status, body = init(wa, caller, **params)
    assert (status, body["result"]["error"]["code"]) == (403, 303)
    wa.policy("rights", scope=scope, action="enrollWEBAUTHN, assign", **who)
    assert init(wa, caller, **params)[0] == 200


@pytest.mark.parametrize("action", [
    pytest.param("webauthn_max_token_per_user",
                 marks=pytest.mark.policy_action("enrollment", "webauthn_max_token_per_user")),
    pytest.param("webauthn_max_active_token_per_user",
                 marks=pytest.mark.policy_action("enrollment", "webauthn_max_active_token_per_user")),
])
def test_webauthn_token_limits(wa: Api, action: str) -> None:
    wa.policy("limit", scope="enrollment", action=f"{action}=1")
    serial = register(wa, SoftAuthenticator())
    status, body = init(wa, type="webauthn", user="alice")
    assert (status, body["result"]["error"]["code"]) == (403, 303)
    assert init(wa, type="hotp", genkey="1", user="alice")[0] == 200
    if "active" in action:
        wa.call("POST", f"/token/disable/{serial}", wa.admin())
        assert init(wa, type="webauthn", user="alice")[0] == 200


@pytest.mark.policy_action("enrollment", "webauthn_req")
def test_only_authenticators_whose_attestation_matches_enroll(wa: Api) -> None:
    wa.policy("req", scope="enrollment", action="webauthn_req=subject/CN=Tessera Key/")
    message = "The WebAuthn token is not allowed to be registered due to a policy restriction."
    assert message in refused(wa, SoftAuthenticator(), fmt="packed")  # self attestation: no certificate
    assert message in refused(wa, SoftAuthenticator(vendor=AttestationCA(subject="Other Key")), fmt="packed")
    serial = register(wa, SoftAuthenticator(vendor=AttestationCA(subject="Tessera Key", serial=99)), fmt="packed")
    info = tokens(wa, serial=serial)[0]["info"]
    assert (info["attestation_subject"], info["attestation_issuer"], info["attestation_serial"]) == (
        "OU=Authenticator Attestation,CN=Tessera Key", "CN=Tessera Test Root", "99")


def _trust(api: Api, directory, *vendors: AttestationCA) -> None:
    """webauthn.trust_anchor_dir (a system config key, as in privacyIDEA) with the vendors' roots."""
    directory.mkdir()
    for number, vendor in enumerate(vendors):
        (directory / f"root{number}.pem").write_bytes(vendor.root.public_bytes(Encoding.PEM))
    status, body = api.call("POST", "/system/setConfig", api.admin(), {"webauthn.trust_anchor_dir": str(directory)})
    assert status == 200, body


@pytest.mark.policy_action("enrollment", "webauthn_authenticator_attestation_level")
def test_trusted_attestation_needs_a_certificate_from_a_trust_anchor(wa: Api, tmp_path) -> None:
    ours = AttestationCA(subject="Tessera Key")
    wa.policy("level", scope="enrollment", action="webauthn_authenticator_attestation_level=trusted")
    assert "is not set" in refused(wa, SoftAuthenticator(vendor=ours))
    _trust(wa, tmp_path / "anchors", ours)
    assert "registration refused" in refused(wa, SoftAuthenticator(vendor=AttestationCA(subject="Other Key")))
    assert "self attestation is not permitted" in refused(wa, SoftAuthenticator())
    assert "no attestation" in refused(wa, SoftAuthenticator(), fmt="none")
    assert [t["rollout_state"] for t in tokens(wa, user="alice")] == ["clientwait"] * 4  # nothing registered
    serial = register(wa, SoftAuthenticator(vendor=ours))
    token = tokens(wa, serial=serial)[0]
    assert token["rollout_state"] == "" and token["info"]["attestation_subject"].endswith("CN=Tessera Key")


@pytest.mark.policy_action("enrollment", "webauthn_authenticator_attestation_level")
def test_level_none_takes_no_attestation_and_the_default_untrusted_refuses_it(wa: Api) -> None:
    assert "no attestation, and the attestation level untrusted requires one" in refused(
        wa, SoftAuthenticator(), fmt="none")
    assert register(wa, SoftAuthenticator(vendor=AttestationCA()))  # an unknown CA passes untrusted
    wa.policy("level", scope="enrollment", action="webauthn_authenticator_attestation_level=none")
    serial = register(wa, SoftAuthenticator(), fmt="none")
    assert tokens(wa, serial=serial)[0]["info"]["attestation_format"] == "none"
