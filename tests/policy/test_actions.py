"""The action catalogue: every documented privacyIDEA action per scope, its type, values and
default, and the /policy/defs shape rendered from the offered ones."""

from __future__ import annotations

import pytest

from tesserad.core.policy import REGISTRY, PolicyError, definitions
from tesserad.core.policy.actions import CATALOGUE, TOKEN_TYPES, USER_ENROLLABLE, catalogued

# Documented (spec inventory §5.2-§5.8), counting enroll<TYPE> once, plus what is generated.
DOCUMENTED = {"admin": 92, "user": 38, "authentication": 38, "authorization": 17, "enrollment": 53,
              "webui": 30, "register": 5}


def generated(scope: str) -> set[str]:
    names = set(CATALOGUE[scope])
    if scope == "admin":
        return {n for n in names if n.startswith("enroll") and n != "enrollpin"}
    if scope == "user":
        # the user scope also knows the spass PIN rules (reference behaviour)
        return {n for n in names if n.startswith("enroll") and n != "enrollpin"} | \
            {"spass_otp_pin_maxlength", "spass_otp_pin_minlength", "spass_otp_pin_contents"}
    if scope == "enrollment":
        return {n for n in names if n.endswith(("_max_token_per_user", "_max_active_token_per_user"))
                and not n.startswith("max_")}
    if scope == "webui":
        return {"logout_redirect"}  # in the 3.8 source, not in the manual
    if scope == "authentication":
        return {"passkey_trigger_by_pin"}  # privacyIDEA 3.11
    return set()


@pytest.mark.parametrize("scope", sorted(DOCUMENTED))
def test_every_documented_action_is_registered(scope: str) -> None:
    enroll_counted_once = 1 if scope in ("admin", "user") else 0
    assert len(set(CATALOGUE[scope]) - generated(scope)) + enroll_counted_once == DOCUMENTED[scope]


def test_enroll_actions_are_generated_per_token_type() -> None:
    assert len(TOKEN_TYPES) == 28 and len(USER_ENROLLABLE) == 21  # the spec's, 3.9's daypassword, 3.11's passkey
    assert "enrollDAYPASSWORD" in CATALOGUE["admin"] and "enrollDAYPASSWORD" in CATALOGUE["user"]
    assert "daypassword_max_token_per_user" in CATALOGUE["enrollment"]
    assert {f"enroll{t.upper()}" for t in TOKEN_TYPES} <= set(CATALOGUE["admin"])
    assert "enrollHOTP" in CATALOGUE["user"] and "enrollWEBAUTHN" in CATALOGUE["user"]
    assert "enrollPW" not in CATALOGUE["user"] and "enrollREGISTRATION" not in CATALOGUE["user"]
    assert CATALOGUE["enrollment"]["hotp_max_token_per_user"].type == "int"
    assert CATALOGUE["audit"] == {}


@pytest.mark.parametrize("scope, name", [
    ("admin", "tokenlist"), ("admin", "policywrite"), ("admin", "mresolverdelete"), ("admin", "set_hsm_password"),
    ("admin", "smtpserver_read"), ("admin", "spass_otp_pin_contents"), ("user", "setdescription"),
    ("user", "hotp_force_server_generate"), ("authentication", "passOnNoUser"),
    ("authentication", "preferred_client_mode"), ("authorization", "add_resolver_in_response"),
    ("enrollment", "webauthn_avoid_double_registration"), ("enrollment", "totp_2step_difficulty"),
    ("webui", "privacy_statement_link"), ("register", "registration_body"),
])
def test_named_actions_exist(scope: str, name: str) -> None:
    assert catalogued(scope, name) is not None


def test_unknown_names() -> None:
    assert catalogued("admin", "otppin") is None
    assert catalogued("nosuchscope", "tokenlist") is None


@pytest.mark.parametrize("scope, name, type_, default", [
    ("authentication", "otppin", "str", "tokenpin"),
    ("authentication", "passOnNoToken", "bool", False),
    ("authentication", "smstext", "text", "<otp>"),
    ("authentication", "indexedsecret_count", "int", 2),
    ("authentication", "push_allow_polling", "str", "allow"),
    ("authorization", "authorized", "str", "grant_access"),
    ("enrollment", "losttoken_PW_length", "int", 16),
    ("enrollment", "papertoken_count", "int", 100),
    ("webui", "logout_time", "int", 120),
    ("webui", "login_mode", "str", "userstore"),
    ("admin", "totp_timestep", "int", 30),
    ("enrollment", "max_token_per_user", "int", None),
])
def test_types_and_defaults(scope: str, name: str, type_: str, default: object) -> None:
    action = CATALOGUE[scope][name]
    assert (action.type, action.default) == (type_, default)


def test_every_action_is_described_and_grouped() -> None:
    for scope, actions in CATALOGUE.items():
        for name, action in actions.items():
            assert action.scope == scope and action.name == name
            assert action.desc.endswith((".", "?")) and action.group, name
            if action.default is not None and action.type != "bool":
                assert action.parse(str(action.default)) == action.default, name


def test_parse_types() -> None:
    otplen = CATALOGUE["admin"]["hotp_otplen"]
    assert otplen.parse("8") == 8
    with pytest.raises(ValueError, match="one of 6, 8"):
        otplen.parse("7")
    with pytest.raises(ValueError, match="needs an integer"):
        otplen.parse("six")
    with pytest.raises(ValueError, match="between 0 and 31"):
        CATALOGUE["user"]["otp_pin_maxlength"].parse("32")
    assert CATALOGUE["admin"]["disable"].parse(None) is True
    assert CATALOGUE["admin"]["disable"].parse("false") is False
    with pytest.raises(ValueError, match="needs a value"):
        CATALOGUE["authentication"]["otppin"].parse(None)
    assert CATALOGUE["authentication"]["passthru"].parse(None) is True  # legacy bare passthru
    assert CATALOGUE["authentication"]["emailtext"].parse("'Your code: {otp}'") == "Your code: {otp}"
    types = CATALOGUE["authentication"]["challenge_response"]
    assert types.parse("hotp totp") == "hotp totp"
    with pytest.raises(ValueError, match="not 'HOTP'"):
        types.parse("HOTP")


@pytest.mark.parametrize("scope, name, good, bad", [
    ("admin", "auditlog_age", "10d", "10 days"),
    ("authorization", "auth_max_fail", "2/1m", "2 per minute"),
    ("authorization", "last_auth", "123d", "123"),
    ("authorization", "serial", "^UBAM.*", "UBAM[0-"),
    ("authorization", "tokeninfo", "last_auth/^2018.*/", "last_auth"),
    ("authorization", "u2f_req", "subject/.*Yubico.*/", "owner/.*/"),
    ("authentication", "mangle", r"user/admin_(.*)/\1/", "login/x/y/"),
    ("authentication", "auth_cache", "4h/5m", "4 hours"),
    ("authentication", "passthru_assign", "pin:6:10000", "6:6"),
    ("enrollment", "yubikey_access_code", "313233343536:414243444546", "31323334"),
    ("enrollment", "change_pin_every", "180d", "6m"),
    ("user", "otp_pin_contents", "+cn", "xyz"),
    ("user", "set_custom_user_attributes", ":department: sales finance :*: 1 2", "department=sales"),
    ("register", "requiredemail", r"/.*@example\..*/", ".*@example.com"),
])
def test_format_checks(scope: str, name: str, good: str, bad: str) -> None:
    action = CATALOGUE[scope][name]
    assert action.parse(good) == good
    with pytest.raises(ValueError):
        action.parse(bad)


def test_definitions_shape() -> None:
    defs = definitions()
    assert set(defs) == set(REGISTRY)
    assert defs["authentication"]["otppin"] == {
        "type": "str", "desc": REGISTRY["authentication"]["otppin"].desc, "group": "general",
        "value": ["tokenpin", "userstore", "none"]}
    assert defs["admin"]["enrollTOTP"]["type"] == "bool" and "value" not in defs["admin"]["enrollTOTP"]
    assert defs["admin"]["hotp_otplen"]["value"] == [6, 8]
    assert defs["authorization"]["tokentype"] == {"type": "str", "desc": REGISTRY["authorization"]["tokentype"].desc,
                                                  "group": "token"}
    assert defs["enrollment"]["verify_enrollment"]["multiple"] is True
    assert all(set(defs[scope]) == set(REGISTRY[scope]) <= set(CATALOGUE[scope]) for scope in REGISTRY
               if CATALOGUE[scope])
    assert definitions("webui") == defs["webui"]
    with pytest.raises(PolicyError, match="scope: unknown scope 'gettoken'"):
        definitions("gettoken")
