"""The core's py_webauthn wrapper against the independent software authenticator."""

import json
import os

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tesserad.core.webauthn import assertion, registration
from tesserad.core.webauthn.credential import StoredCredential, counter_moves_on
from tesserad.core.webauthn.encoding import b64url_decode, b64url_encode
from tesserad.core.webauthn.errors import WebAuthnInputError, WebAuthnRefused

from tests.softauthn import AttestationCA, SoftAuthenticator, truncated

ORIGIN = "https://tessera.example"
RP = "tessera.example"
ALGS = ["ES256", "EdDSA", "RS256"]


def _register(auth, fmt="packed", **kw):
    challenge = os.urandom(32)
    reg = auth.register(challenge, fmt=fmt)
    return registration.verify_registration(clientdata=reg.clientdata, regdata=reg.regdata, challenge=challenge,
                                            rp_id=RP, origin=ORIGIN, rp_name="Tessera", **kw)


def _assert(auth, credential, challenge=None, **kw):
    challenge = challenge or os.urandom(32)
    got = auth.assert_(challenge, **{k: v for k, v in kw.items() if k != "require_user_verification"})
    answer = assertion.AssertionAnswer(got.credential_id, got.clientdata, got.authenticatordata, got.signature)
    return assertion.verify_assertion(answer=answer, credential=credential, challenge=challenge, origin=ORIGIN,
                                      require_user_verification=kw.get("require_user_verification", False))


@pytest.mark.parametrize("fmt", ["none", "packed"])
@pytest.mark.parametrize("alg", ALGS)
def test_register_then_assert_for_each_algorithm_and_format(alg, fmt):
    auth = SoftAuthenticator(alg=alg)
    done = _register(auth, fmt, level="none" if fmt == "none" else "untrusted")
    assert done.credential.credential_id == auth.credential_id
    assert done.credential.fmt == fmt and done.credential.rp_id == RP
    assert done.credential.aaguid == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert done.user_verified and done.certificate is None
    assert _assert(auth, done.credential).sign_count == 1
    assert _assert(auth, done.credential).sign_count == 2


def test_the_stored_record_survives_tokeninfo():
    done = _register(SoftAuthenticator())
    cred = StoredCredential(**{**done.credential.__dict__, "transports": ("usb", "nfc")})
    assert StoredCredential.from_info(cred.to_info()) == cred


@pytest.mark.parametrize(("knob", "message"), [
    ({"origin": "https://evil.example"}, "origin"),
    ({"rp_id": "evil.example"}, "RP ID"),
])
def test_registration_from_another_origin_or_rp_is_refused(knob, message):
    auth = SoftAuthenticator()
    challenge = os.urandom(32)
    reg = auth.register(challenge, **knob)
    with pytest.raises(WebAuthnRefused, match=message):
        registration.verify_registration(clientdata=reg.clientdata, regdata=reg.regdata, challenge=challenge,
                                         rp_id=RP, origin=ORIGIN)


def test_registration_to_another_challenge_is_refused():
    reg = SoftAuthenticator().register(os.urandom(32))
    with pytest.raises(WebAuthnRefused, match="challenge"):
        registration.verify_registration(clientdata=reg.clientdata, regdata=reg.regdata, challenge=os.urandom(32),
                                         rp_id=RP, origin=ORIGIN)


def test_registration_without_user_verification_is_refused_when_required():
    auth = SoftAuthenticator(user_verified=False)
    with pytest.raises(WebAuthnRefused, match="User verification is required"):
        _register(auth, require_user_verification=True)
    assert not _register(auth).user_verified


def test_registration_with_an_algorithm_outside_the_policy_is_refused():
    with pytest.raises(WebAuthnRefused, match="Unsupported credential public key alg"):
        _register(SoftAuthenticator(alg="RS256"), algorithms=[registration.ALGORITHMS["ecdsa"]])


def test_a_tampered_packed_self_attestation_is_refused():
    auth = SoftAuthenticator()
    challenge = os.urandom(32)
    reg = auth.register(challenge, fmt="packed")
    other = auth.register(os.urandom(32), fmt="packed")  # a valid statement over other client data
    with pytest.raises(WebAuthnRefused):
        registration.verify_registration(clientdata=reg.clientdata, regdata=other.regdata, challenge=challenge,
                                         rp_id=RP, origin=ORIGIN)


@pytest.mark.parametrize("alg", ALGS)
def test_a_tampered_signature_is_refused(alg):
    auth = SoftAuthenticator(alg=alg)
    cred = _register(auth).credential
    with pytest.raises(WebAuthnRefused, match="signature"):
        _assert(auth, cred, tamper=True)


@pytest.mark.parametrize(("knob", "message"), [
    ({"origin": "https://evil.example"}, "origin"),
    ({"rp_id": "evil.example"}, "RP ID"),
    ({"user_verified": False, "require_user_verification": True}, "User verification is required"),
])
def test_assertion_checks_origin_rp_and_user_verification(knob, message):
    auth = SoftAuthenticator()
    cred = _register(auth).credential
    with pytest.raises(WebAuthnRefused, match=message):
        _assert(auth, cred, **knob)


def test_assertion_by_another_credential_is_refused():
    auth, other = SoftAuthenticator(), SoftAuthenticator()
    cred = _register(auth).credential
    _register(other)
    with pytest.raises(WebAuthnRefused, match="another credential"):
        _assert(other, cred)


def test_assertion_for_another_challenge_is_refused():
    auth = SoftAuthenticator()
    cred = _register(auth).credential
    got = auth.assert_(os.urandom(32))
    answer = assertion.AssertionAnswer(got.credential_id, got.clientdata, got.authenticatordata, got.signature)
    with pytest.raises(WebAuthnRefused, match="challenge"):
        assertion.verify_assertion(answer=answer, credential=cred, challenge=os.urandom(32), origin=ORIGIN)


def test_the_counter_must_move_forward_unless_the_authenticator_keeps_none():
    assert counter_moves_on(0, 0)
    assert counter_moves_on(4, 5)
    assert not counter_moves_on(5, 5)
    assert not counter_moves_on(5, 3)
    assert not counter_moves_on(5, 0)


@pytest.mark.parametrize("value", ["a+b/", "abc$", "abcde", "a" * 16385])
def test_websafe_base64_is_strict(value):
    with pytest.raises(WebAuthnInputError, match="clientdata"):
        b64url_decode(value, "clientdata")


def test_websafe_base64_round_trip_without_padding():
    for n in range(6):
        data = os.urandom(n)
        assert "=" not in b64url_encode(data)
        assert b64url_decode(b64url_encode(data), "x") == data
    assert b64url_decode("YQ==", "x") == b"a"


def test_truncated_cbor_and_wrong_ceremony_are_input_errors():
    auth = SoftAuthenticator()
    challenge = os.urandom(32)
    reg = auth.register(challenge)
    with pytest.raises(WebAuthnInputError, match="regdata is not a CBOR attestation object"):
        registration.verify_registration(clientdata=reg.clientdata, regdata=truncated(reg.regdata),
                                         challenge=challenge, rp_id=RP, origin=ORIGIN)
    wrong = auth.register(challenge, client_type="webauthn.get")
    with pytest.raises(WebAuthnInputError, match="clientdata has type 'webauthn.get', expected 'webauthn.create'"):
        registration.verify_registration(clientdata=wrong.clientdata, regdata=wrong.regdata, challenge=challenge,
                                         rp_id=RP, origin=ORIGIN)
    with pytest.raises(WebAuthnInputError, match="clientdata is not WebAuthn client data JSON"):
        registration.verify_registration(clientdata=b"{not json", regdata=reg.regdata, challenge=challenge,
                                         rp_id=RP, origin=ORIGIN)
    with pytest.raises(WebAuthnInputError, match='missing required property "origin"'):
        registration.verify_registration(clientdata=json.dumps({"type": "webauthn.create", "challenge": "AA"}).encode(),
                                         regdata=reg.regdata, challenge=challenge, rp_id=RP, origin=ORIGIN)


def test_truncated_authenticator_data_is_an_input_error():
    auth = SoftAuthenticator()
    cred = _register(auth).credential
    got = auth.assert_(b"c" * 32)
    answer = assertion.AssertionAnswer(got.credential_id, got.clientdata, got.authenticatordata[:20], got.signature)
    with pytest.raises(WebAuthnInputError, match="authenticatordata is truncated"):
        assertion.verify_assertion(answer=answer, credential=cred, challenge=b"c" * 32, origin=ORIGIN)


def test_options_carry_what_was_asked():
    created = registration.creation_options(
        rp_id=RP, rp_name="Tessera", user_name="alice", display_name="Alice", user_id=b"u1", challenge=b"n" * 32,
        timeout_ms=30000, algorithms=[-7, -257], user_verification="required", attachment="cross-platform")
    assert [p.alg for p in created.pub_key_cred_params] == [-7, -257]
    assert created.authenticator_selection.user_verification.value == "required"
    requested = assertion.request_options(rp_id=RP, challenge=b"n" * 32, timeout_ms=30000,
                                          user_verification="preferred", allow=[b"id"], transports=["usb"])
    assert requested.allow_credentials[0].id == b"id"
    assert [t.value for t in requested.allow_credentials[0].transports] == ["usb"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://tessera.example", "https://tessera.example.evil",
                                    "https://xtessera.example", "not a url"])
def test_an_origin_outside_the_relying_party_is_refused_even_when_the_client_data_agrees(origin):
    auth = SoftAuthenticator(origin=origin)
    challenge = os.urandom(32)
    reg = auth.register(challenge)
    with pytest.raises(WebAuthnRefused, match="is not of the relying party"):
        registration.verify_registration(clientdata=reg.clientdata, regdata=reg.regdata, challenge=challenge,
                                         rp_id=RP, origin=origin)
    cred = _register(SoftAuthenticator()).credential
    got = auth.assert_(challenge)
    answer = assertion.AssertionAnswer(cred.credential_id, got.clientdata, got.authenticatordata, got.signature)
    with pytest.raises(WebAuthnRefused, match="is not of the relying party"):
        assertion.verify_assertion(answer=answer, credential=cred, challenge=challenge, origin=origin)


def test_a_subdomain_and_localhost_are_origins_of_their_relying_party():
    auth = SoftAuthenticator(origin="https://login.tessera.example")
    challenge = os.urandom(32)
    reg = auth.register(challenge)
    assert registration.verify_registration(clientdata=reg.clientdata, regdata=reg.regdata, challenge=challenge,
                                            rp_id=RP, origin="https://login.tessera.example").sign_count == 0
    local = SoftAuthenticator(origin="http://localhost:8080", rp_id="localhost")
    reg = local.register(challenge)
    registration.verify_registration(clientdata=reg.clientdata, regdata=reg.regdata, challenge=challenge,
                                     rp_id="localhost", origin="http://localhost:8080")


def _anchors(directory, *vendors):
    directory.mkdir(exist_ok=True)
    for number, vendor in enumerate(vendors):
        (directory / f"root{number}.pem").write_bytes(vendor.root.public_bytes(Encoding.PEM))
    return str(directory)


def test_full_packed_attestation_names_its_certificate_and_chains_to_trusted_roots(tmp_path):
    vendor = AttestationCA(subject="Tessera Key", serial=77)
    auth = SoftAuthenticator(vendor=vendor)
    done = _register(auth, "packed")
    assert done.certificate == registration.AttestationCertificate(
        "OU=Authenticator Attestation,CN=Tessera Key", "CN=Tessera Test Root", "77")
    trusted = _register(auth, "packed", level="trusted", trust_anchor_dir=_anchors(tmp_path / "ours", vendor))
    assert trusted.certificate == done.certificate
    with pytest.raises(WebAuthnRefused, match="registration refused"):
        _register(auth, "packed", level="trusted", trust_anchor_dir=_anchors(tmp_path / "other", AttestationCA()))


@pytest.mark.parametrize(("fmt", "level", "message"), [
    ("none", "untrusted", "no attestation"),
    ("none", "trusted", "no attestation"),
    ("packed", "trusted", "self attestation is not permitted"),
])
def test_attestation_levels_refuse_what_privacyidea_refuses(tmp_path, fmt, level, message):
    with pytest.raises(WebAuthnRefused, match=message):
        _register(SoftAuthenticator(), fmt, level=level, trust_anchor_dir=_anchors(tmp_path, AttestationCA()))


def test_an_unknown_ca_passes_untrusted_and_none(tmp_path):
    auth = SoftAuthenticator(vendor=AttestationCA())
    assert _register(auth, "packed").certificate is not None
    assert _register(SoftAuthenticator(), "none", level="none").certificate is None


@pytest.mark.parametrize(("setup", "message"), [
    (lambda path: None, "is not set"),
    (lambda path: str(path / "missing"), "cannot be read"),
    (lambda path: str(path), "holds no PEM certificate"),
])
def test_trusted_without_a_usable_anchor_directory_is_a_clear_refusal(tmp_path, setup, message):
    (tmp_path / "README").write_text("not a certificate")
    auth = SoftAuthenticator(vendor=AttestationCA())
    with pytest.raises(WebAuthnRefused, match=message):
        _register(auth, "packed", level="trusted", trust_anchor_dir=setup(tmp_path))


def test_anchors_are_read_again_when_the_directory_changes(tmp_path):
    vendor = AttestationCA()
    auth = SoftAuthenticator(vendor=vendor)
    directory = _anchors(tmp_path, AttestationCA())
    with pytest.raises(WebAuthnRefused):
        _register(auth, "packed", level="trusted", trust_anchor_dir=directory)
    (tmp_path / "new.pem").write_bytes(vendor.root.public_bytes(Encoding.PEM))
    os.utime(tmp_path, ns=(1, os.stat(tmp_path).st_mtime_ns + 1_000_000))
    assert _register(auth, "packed", level="trusted", trust_anchor_dir=directory).certificate is not None
