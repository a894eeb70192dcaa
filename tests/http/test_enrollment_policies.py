"""Policies that shape /token/init and what the token and audit listings show, each set as
a stored policy and seen over HTTP against the same call without it: the PIN rules and
forced HOTP/TOTP parameters of the admin and user scopes, hidden tokeninfo and audit
columns, the audit age, and the token limits of the enrollment scope for every token type."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tesserad.core.store.models import CustomUserAttribute, Token

from tests.http.restapi import Api
from tests.http.test_rights_effect import ENROLL_PARAMS
from tests.http.test_token_api import error, ok, row

# What the caller needs besides the action under test: enrolling HOTP, TOTP and Simple Pass
# tokens with a PIN (and, for an admin, for a user, and seeing the tokens and the audit).
NEEDED = {"admin": "enrollHOTP, enrollTOTP, enrollSPASS, enrollpin, assign, tokenlist, auditlog",
          "user": "enrollHOTP, enrollTOTP, enrollSPASS, enrollpin, auditlog"}


def caller(api: Api, scope: str) -> tuple[str, dict[str, str]]:
    """The caller's JWT, and the parameters that make its tokens alice's."""
    if scope == "admin":
        return api.admin(), {"user": "alice"}
    return api.user("alice"), {}


def tokens(api: Api) -> int:
    with api.core.database.session() as session:
        return session.scalar(select(func.count()).select_from(Token)) or 0


def rule(api: Api, scope: str, action: str = "") -> None:
    """The caller's policy: what it needs, and ``action``."""
    api.policy("rule", scope=scope, action=", ".join(filter(None, [NEEDED[scope], action])),
               **({"adminuser": "admin"} if scope == "admin" else {}))


def enroll(api: Api, token: str, **params: str) -> tuple[str, dict[str, Any]]:
    status, body = api.call("POST", "/token/init", token, params)
    assert status == 200, body
    return body["detail"]["serial"], body["detail"]


@pytest.mark.parametrize(("scope", "action", "token_type", "refused", "allowed"), [
    pytest.param("admin", "otp_pin_maxlength=4", "hotp", "12345", "1234",
                 marks=pytest.mark.policy_action("admin", "otp_pin_maxlength")),
    pytest.param("user", "otp_pin_maxlength=4", "hotp", "12345", "1234",
                 marks=pytest.mark.policy_action("user", "otp_pin_maxlength")),
    pytest.param("admin", "otp_pin_minlength=4", "hotp", "123", "1234",
                 marks=pytest.mark.policy_action("admin", "otp_pin_minlength")),
    pytest.param("admin", "otp_pin_contents=cn", "hotp", "abcd", "ab12",
                 marks=pytest.mark.policy_action("admin", "otp_pin_contents")),
    pytest.param("admin", "spass_otp_pin_maxlength=4", "spass", "12345", "1234",
                 marks=pytest.mark.policy_action("admin", "spass_otp_pin_maxlength")),
    pytest.param("user", "spass_otp_pin_maxlength=4", "spass", "12345", "1234",
                 marks=pytest.mark.policy_action("user", "spass_otp_pin_maxlength")),
    pytest.param("admin", "spass_otp_pin_minlength=4", "spass", "123", "1234",
                 marks=pytest.mark.policy_action("admin", "spass_otp_pin_minlength")),
    pytest.param("user", "spass_otp_pin_minlength=4", "spass", "123", "1234",
                 marks=pytest.mark.policy_action("user", "spass_otp_pin_minlength")),
    pytest.param("admin", "spass_otp_pin_contents=cn", "spass", "abcd", "ab12",
                 marks=pytest.mark.policy_action("admin", "spass_otp_pin_contents")),
    pytest.param("user", "spass_otp_pin_contents=cn", "spass", "abcd", "ab12",
                 marks=pytest.mark.policy_action("user", "spass_otp_pin_contents")),
])
def test_pin_rules_refuse_a_pin_at_enrollment(api: Api, scope: str, action: str, token_type: str, refused: str,
                                              allowed: str) -> None:
    token, owner = caller(api, scope)
    params = {"type": token_type, **ENROLL_PARAMS[token_type], **owner}
    rule(api, scope)
    assert ok(api.call("POST", "/token/init", token, {**params, "pin": refused})) is True
    rule(api, scope, action)
    before = tokens(api)
    assert error(api.call("POST", "/token/init", token, {**params, "pin": refused})) == (403, 303)
    assert tokens(api) == before
    assert ok(api.call("POST", "/token/init", token, {**params, "pin": allowed})) is True
    if token_type == "spass":  # the spass_ rule overrides the general one for Simple Pass tokens only
        assert ok(api.call("POST", "/token/init", token, {"type": "hotp", "genkey": "1", **owner,
                                                           "pin": refused})) is True


def facts(api: Api, serial: str) -> dict[str, str]:
    return {"hashlib": api.core.token_info(serial, "hashlib"), "otplen": str(row(api, serial).otplen),
            "timeStep": api.core.token_info(serial, "timeStep")}


@pytest.mark.parametrize(("scope", "action", "token_type", "fact", "forced"), [
    pytest.param("admin", "hotp_hashlib=sha256", "hotp", "hashlib", "sha256",
                 marks=pytest.mark.policy_action("admin", "hotp_hashlib")),
    pytest.param("admin", "totp_hashlib=sha512", "totp", "hashlib", "sha512",
                 marks=pytest.mark.policy_action("admin", "totp_hashlib")),
    pytest.param("user", "totp_hashlib=sha512", "totp", "hashlib", "sha512",
                 marks=pytest.mark.policy_action("user", "totp_hashlib")),
    pytest.param("admin", "hotp_otplen=8", "hotp", "otplen", "8",
                 marks=pytest.mark.policy_action("admin", "hotp_otplen")),
    pytest.param("admin", "totp_otplen=8", "totp", "otplen", "8",
                 marks=pytest.mark.policy_action("admin", "totp_otplen")),
    pytest.param("user", "totp_otplen=8", "totp", "otplen", "8",
                 marks=pytest.mark.policy_action("user", "totp_otplen")),
    pytest.param("admin", "totp_timestep=60", "totp", "timeStep", "60",
                 marks=pytest.mark.policy_action("admin", "totp_timestep")),
    pytest.param("user", "totp_timestep=60", "totp", "timeStep", "60",
                 marks=pytest.mark.policy_action("user", "totp_timestep")),
])
def test_forced_parameters_override_the_callers_choice(api: Api, scope: str, action: str, token_type: str,
                                                       fact: str, forced: str) -> None:
    token, owner = caller(api, scope)
    chosen = {"hashlib": "sha1", "otplen": "6", "timeStep": "30"}
    params = {"type": token_type, "genkey": "1", **owner, **chosen}
    rule(api, scope)
    serial, _ = enroll(api, token, **params)
    assert facts(api, serial)[fact] == chosen[fact]
    rule(api, scope, action)
    serial, _ = enroll(api, token, **params)
    assert facts(api, serial)[fact] == forced


@pytest.mark.policy_action("user", "hotp_force_server_generate")
def test_a_user_must_let_the_server_generate_the_hotp_key(api: Api) -> None:
    token = api.user("alice")
    rule(api, "user")
    _, detail = enroll(api, token, type="hotp", otpkey="3132333435363738393031323334353637383930")
    assert "otpkey" not in detail
    rule(api, "user", "hotp_force_server_generate")
    _, detail = enroll(api, token, type="hotp", otpkey="3132333435363738393031323334353637383930")
    assert detail["otpkey"]["value"] != "seed://3132333435363738393031323334353637383930"


@pytest.mark.parametrize("scope", [
    pytest.param("admin", marks=pytest.mark.policy_action("admin", "hide_tokeninfo")),
    pytest.param("user", marks=pytest.mark.policy_action("user", "hide_tokeninfo")),
])
def test_hidden_tokeninfo_is_left_out_of_the_listing(api: Api, scope: str) -> None:
    token, owner = caller(api, scope)
    rule(api, scope)
    enroll(api, token, type="hotp", genkey="1", **owner)
    assert "hashlib" in ok(api.call("GET", "/token/", token))["tokens"][0]["info"]
    rule(api, scope, "hide_tokeninfo=other")
    assert "hashlib" in ok(api.call("GET", "/token/", token))["tokens"][0]["info"]
    rule(api, scope, "hide_tokeninfo=other hashlib")
    assert "hashlib" not in ok(api.call("GET", "/token/", token))["tokens"][0]["info"]


@pytest.mark.parametrize("scope", [
    pytest.param("admin", marks=[pytest.mark.policy_action("admin", "auditlog_age"),
                                 pytest.mark.policy_action("admin", "hide_audit_columns")]),
    pytest.param("user", marks=[pytest.mark.policy_action("user", "auditlog_age"),
                                pytest.mark.policy_action("user", "hide_audit_columns")]),
])
def test_audit_age_and_hidden_columns(api: Api, scope: str) -> None:
    token, owner = caller(api, scope)
    rule(api, scope)
    enroll(api, token, type="hotp", genkey="1", **owner)
    page = ok(api.call("GET", "/audit/", token))
    assert page["count"] >= 1 and "serial" in page["auditdata"][0]
    rule(api, scope, "hide_audit_columns=serial")
    page = ok(api.call("GET", "/audit/", token))
    assert page["count"] >= 1 and "serial" not in page["auditdata"][0]
    api.core.clock.advance(11 * 60)
    rule(api, scope, "auditlog_age=10m")
    assert ok(api.call("GET", "/audit/", token))["count"] == 0


def limited(api: Api, params: dict[str, Any]) -> tuple[int, int]:
    return error(api.call("POST", "/token/init", api.admin(), params))


@pytest.mark.parametrize(("action", "token_type"), [
    pytest.param("max_active_token_per_user", "hotp",
                 marks=pytest.mark.policy_action("enrollment", "max_active_token_per_user")),
    pytest.param("hotp_max_token_per_user", "hotp",
                 marks=pytest.mark.policy_action("enrollment", "hotp_max_token_per_user")),
    pytest.param("hotp_max_active_token_per_user", "hotp",
                 marks=pytest.mark.policy_action("enrollment", "hotp_max_active_token_per_user")),
    pytest.param("totp_max_token_per_user", "totp",
                 marks=pytest.mark.policy_action("enrollment", "totp_max_token_per_user")),
    pytest.param("totp_max_active_token_per_user", "totp",
                 marks=pytest.mark.policy_action("enrollment", "totp_max_active_token_per_user")),
    pytest.param("spass_max_token_per_user", "spass",
                 marks=pytest.mark.policy_action("enrollment", "spass_max_token_per_user")),
    pytest.param("spass_max_active_token_per_user", "spass",
                 marks=pytest.mark.policy_action("enrollment", "spass_max_active_token_per_user")),
    pytest.param("yubikey_max_token_per_user", "yubikey",
                 marks=pytest.mark.policy_action("enrollment", "yubikey_max_token_per_user")),
    pytest.param("yubikey_max_active_token_per_user", "yubikey",
                 marks=pytest.mark.policy_action("enrollment", "yubikey_max_active_token_per_user")),
    pytest.param("paper_max_token_per_user", "paper",
                 marks=pytest.mark.policy_action("enrollment", "paper_max_token_per_user")),
    pytest.param("paper_max_active_token_per_user", "paper",
                 marks=pytest.mark.policy_action("enrollment", "paper_max_active_token_per_user")),
    pytest.param("tan_max_token_per_user", "tan",
                 marks=pytest.mark.policy_action("enrollment", "tan_max_token_per_user")),
    pytest.param("tan_max_active_token_per_user", "tan",
                 marks=pytest.mark.policy_action("enrollment", "tan_max_active_token_per_user")),
    pytest.param("motp_max_token_per_user", "motp",
                 marks=pytest.mark.policy_action("enrollment", "motp_max_token_per_user")),
    pytest.param("motp_max_active_token_per_user", "motp",
                 marks=pytest.mark.policy_action("enrollment", "motp_max_active_token_per_user")),
    pytest.param("question_max_token_per_user", "question",
                 marks=pytest.mark.policy_action("enrollment", "question_max_token_per_user")),
    pytest.param("question_max_active_token_per_user", "question",
                 marks=pytest.mark.policy_action("enrollment", "question_max_active_token_per_user")),
    pytest.param("indexedsecret_max_token_per_user", "indexedsecret",
                 marks=pytest.mark.policy_action("enrollment", "indexedsecret_max_token_per_user")),
    pytest.param("indexedsecret_max_active_token_per_user", "indexedsecret",
                 marks=pytest.mark.policy_action("enrollment", "indexedsecret_max_active_token_per_user")),
    pytest.param("daypassword_max_token_per_user", "daypassword",
                 marks=pytest.mark.policy_action("enrollment", "daypassword_max_token_per_user")),
    pytest.param("daypassword_max_active_token_per_user", "daypassword",
                 marks=pytest.mark.policy_action("enrollment", "daypassword_max_active_token_per_user")),
    pytest.param("sms_max_token_per_user", "sms",
                 marks=pytest.mark.policy_action("enrollment", "sms_max_token_per_user")),
    pytest.param("sms_max_active_token_per_user", "sms",
                 marks=pytest.mark.policy_action("enrollment", "sms_max_active_token_per_user")),
    pytest.param("pw_max_token_per_user", "pw",
                 marks=pytest.mark.policy_action("enrollment", "pw_max_token_per_user")),
    pytest.param("pw_max_active_token_per_user", "pw",
                 marks=pytest.mark.policy_action("enrollment", "pw_max_active_token_per_user")),
    pytest.param("registration_max_token_per_user", "registration",
                 marks=pytest.mark.policy_action("enrollment", "registration_max_token_per_user")),
    pytest.param("registration_max_active_token_per_user", "registration",
                 marks=pytest.mark.policy_action("enrollment", "registration_max_active_token_per_user")),
    pytest.param("email_max_token_per_user", "email",
                 marks=pytest.mark.policy_action("enrollment", "email_max_token_per_user")),
    pytest.param("email_max_active_token_per_user", "email",
                 marks=pytest.mark.policy_action("enrollment", "email_max_active_token_per_user")),
    pytest.param("push_max_token_per_user", "push",
                 marks=pytest.mark.policy_action("enrollment", "push_max_token_per_user")),
    pytest.param("push_max_active_token_per_user", "push",
                 marks=pytest.mark.policy_action("enrollment", "push_max_active_token_per_user")),
    pytest.param("4eyes_max_token_per_user", "4eyes",
                 marks=pytest.mark.policy_action("enrollment", "4eyes_max_token_per_user")),
    pytest.param("4eyes_max_active_token_per_user", "4eyes",
                 marks=pytest.mark.policy_action("enrollment", "4eyes_max_active_token_per_user")),
])
def test_token_limits_per_user(api: Api, action: str, token_type: str) -> None:
    """One token of the type is allowed, a second refused; only the type counts for a
    per-type limit, and only active tokens for an ``active`` limit."""
    admin = api.admin()
    params = {"type": token_type, "user": "alice", **ENROLL_PARAMS[token_type]}
    api.policy("limit", scope="enrollment", action=f"{action}=1")
    first, _ = enroll(api, admin, **params)
    assert limited(api, params) == (403, 303)
    other = "totp" if token_type == "hotp" else "hotp"
    if action.startswith(token_type):
        enroll(api, admin, type=other, genkey="1", user="alice")
    if "active" in action:
        assert ok(api.call("POST", f"/token/disable/{first}", admin)) == 1
        enroll(api, admin, **params)
    assert ok(api.call("GET", "/token/", admin, {"user": "alice", "type": token_type}))["count"] == (
        2 if "active" in action else 1)


@pytest.mark.policy_action("enrollment", "max_token_per_realm")
def test_token_limit_per_realm(api: Api) -> None:
    admin = api.admin()
    api.policy("limit", scope="enrollment", action="max_token_per_realm=2", realm="example")
    enroll(api, admin, type="hotp", user="alice", genkey="1")
    enroll(api, admin, type="hotp", user="bob", genkey="1")
    assert limited(api, {"type": "hotp", "genkey": "1", "user": "carol"}) == (403, 303)
    assert ok(api.call("GET", "/token/", admin))["count"] == 2


@pytest.mark.policy_action("admin", "enrollpin")
def test_an_admin_without_enrollpin_enrolls_without_the_pin(api: Api) -> None:
    admin = api.admin()
    api.policy("rule", scope="admin", action="enrollHOTP, assign, tokenlist", adminuser="admin")
    serial, _ = enroll(api, admin, type="hotp", genkey="1", user="alice", pin="1234")
    assert row(api, serial).pin_hash is None
    rule(api, "admin")
    serial, _ = enroll(api, admin, type="hotp", genkey="1", user="alice", pin="1234")
    assert row(api, serial).pin_hash is not None


@pytest.mark.policy_action("user", "otp_pin_set_random")
def test_a_user_sets_a_random_pin_of_the_policys_length(api: Api) -> None:
    token = api.user("alice")
    rule(api, "user", "setrandompin")
    serial, _ = enroll(api, token, type="hotp", genkey="1")
    status, body = api.call("POST", f"/token/setrandompin/{serial}", token)
    assert (status, body["result"]["error"]["code"]) == (403, 303)
    assert "otp_pin_set_random" in body["result"]["error"]["message"]
    rule(api, "user", "setrandompin, otp_pin_set_random=9")
    status, body = api.call("POST", f"/token/setrandompin/{serial}", token)
    assert status == 200 and len(body["detail"]["pin"]) == 9


@pytest.mark.parametrize("scope", [
    pytest.param("admin", marks=pytest.mark.policy_action("admin", "indexedsecret_force_attribute")),
    pytest.param("user", marks=pytest.mark.policy_action("user", "indexedsecret_force_attribute")),
])
def test_the_forced_attribute_is_the_indexed_secret(api: Api, scope: str) -> None:
    token, owner = caller(api, scope)
    alice = api.core.user("alice")
    with api.core.database.session() as session:
        session.add(CustomUserAttribute(realm_id=api.core.directory.realm_id(session, "example"),
                                        resolver=alice.resolver, user_id=alice.uid, key="codeword", value="tesserad"))
        session.commit()
    params = {"type": "indexedsecret", "otpkey": "chosen", **owner}
    rule(api, scope, "enrollINDEXEDSECRET")
    assert secret(api, enroll(api, token, **params)[0]) == "chosen"
    rule(api, scope, "enrollINDEXEDSECRET, indexedsecret_force_attribute=codeword")
    serial, detail = enroll(api, token, **params)
    assert secret(api, serial) == "tesserad" and "tesserad" not in str(detail)
    rule(api, scope, "enrollINDEXEDSECRET, indexedsecret_force_attribute=nothing")
    status, body = api.call("POST", "/token/init", token, params)
    assert (status, body["result"]["error"]["message"]) == (
        400, "ERR905: the user has no attribute 'nothing' to take the secret from")


def secret(api: Api, serial: str) -> str:
    with api.core.database.session() as session:
        found = api.core.tokens.find(session, serial)
        assert found is not None
        return found.secret().decode()
