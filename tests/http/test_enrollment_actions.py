"""Enrollment actions over ``POST /token/init``: the number of paper/TAN values, generated
passwords and registration codes, two-step enrolment with client and server key parts,
what the otpauth URL tells the authenticator app (image, forced app PIN)."""

from __future__ import annotations

import base64
import hashlib
import os
import string
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tesserad.core.policy.auth import PolicyAuthPolicies
from tesserad.core.tokens import oath

from tests.http.people import PASSWORDS
from tests.http.restapi import Api
from tests.http.test_token_api import error, ok, row
from tests.wired import RFC4226, RFC_SEED_HEX

USER_RIGHTS = "enrollHOTP, enrollTOTP, enrollPAPER, enrollTAN"


def init(api: Api, token: str, **params: Any) -> dict[str, Any]:
    status, body = api.call("POST", "/token/init", token, params)
    assert status == 200, body
    return body["detail"]


def url_params(detail: dict[str, Any]) -> dict[str, str]:
    """The query of the otpauth URL, one value per name."""
    return {name: values[0] for name, values in parse_qs(urlsplit(detail["googleurl"]["value"]).query).items()}


def validate(api: Api, user: str, password: str) -> bool:
    status, body = api.call("POST", "/validate/check", params={"user": user, "pass": password})
    assert status == 200, body
    return body["result"]["value"]


@pytest.mark.policy_action("enrollment", "papertoken_count")
@pytest.mark.policy_action("enrollment", "tantoken_count")
def test_the_policy_sets_how_many_paper_and_tan_values_are_made(api: Api) -> None:
    api.policy("self", scope="user", realm="example", action=USER_RIGHTS)
    admin, bob = api.admin(), api.user("bob")
    assert len(init(api, bob, type="tan")["otps"]) == 100  # the built-in count
    api.policy("counts", scope="enrollment", realm="example", action="papertoken_count=5, tantoken_count=7")
    # The policy wins over the request's own count, for admins and users of the realm.
    assert len(init(api, admin, type="paper", user="alice", papertoken_count="50")["otps"]) == 5
    assert len(init(api, bob, type="paper")["otps"]) == 5
    assert len(init(api, bob, type="tan", tantoken_count="3")["otps"]) == 7


@pytest.mark.policy_action("enrollment", "pw.length")
@pytest.mark.policy_action("enrollment", "pw.contents")
def test_generated_passwords_follow_the_policy(api: Api) -> None:
    admin = api.admin()
    default = init(api, admin, type="pw", genkey="1", user="alice")["password"]
    assert len(default) == 12
    api.policy("pw", scope="enrollment", realm="example", action="pw.length=20, pw.contents=n")
    detail = init(api, admin, type="pw", genkey="1", user="bob")
    password = detail["password"]
    assert len(password) == 20 and set(password) <= set(string.digits)
    assert validate(api, "bob", password) and not validate(api, "bob", default)


@pytest.mark.policy_action("enrollment", "registration.length")
@pytest.mark.policy_action("enrollment", "registration.contents")
def test_registration_codes_follow_the_policy(api: Api) -> None:
    api.policy("reg", scope="enrollment", realm="example", action="registration.length=10, "
                                                                    "registration.contents=[ab]")
    code = init(api, api.admin(), type="registration", user="alice")["registrationcode"]
    assert len(code) == 10 and set(code) <= {"a", "b"}
    assert validate(api, "alice", code)


def base32check(client: bytes) -> str:
    return base64.b32encode(hashlib.sha1(client).digest()[:4] + client).decode().rstrip("=")


def current_otp(api: Api, kind: str, key: bytes) -> str:
    counter = oath.time_step(api.core.clock.now(), 30) if kind == "totp" else 0
    return oath.hotp(key, counter, 6)


@pytest.mark.parametrize("kind", ["hotp", "totp"])
@pytest.mark.policy_action("admin", "hotp_2step")
@pytest.mark.policy_action("admin", "totp_2step")
@pytest.mark.policy_action("enrollment", "hotp_2step_clientsize")
@pytest.mark.policy_action("enrollment", "hotp_2step_serversize")
@pytest.mark.policy_action("enrollment", "hotp_2step_difficulty")
@pytest.mark.policy_action("enrollment", "totp_2step_clientsize")
@pytest.mark.policy_action("enrollment", "totp_2step_serversize")
@pytest.mark.policy_action("enrollment", "totp_2step_difficulty")
def test_forced_two_step_enrolment_derives_the_key_from_both_parts(api: Api, kind: str) -> None:
    api.policy("admins", scope="admin", action=f"enroll{kind.upper()}, assign, {kind}_2step=force")
    api.policy("sizes", scope="enrollment", realm="example",
               action=f"{kind}_2step_clientsize=10, {kind}_2step_serversize=12, {kind}_2step_difficulty=1000")
    admin = api.admin()
    first = init(api, admin, type=kind, genkey="1", user="alice")
    serial = first["serial"]
    server = bytes.fromhex(first["otpkey"]["value"].removeprefix("seed://"))
    assert (first["rollout_state"], len(server)) == ("clientwait", 12)
    assert {k: url_params(first)[k] for k in ("2step_output", "2step_salt", "2step_difficulty")} == {
        "2step_output": "20", "2step_salt": "10", "2step_difficulty": "1000"}
    assert not validate(api, "alice", current_otp(api, kind, server))  # not enrolled yet
    # The client part must have the policy's size; a wrong one changes nothing.
    assert error(api.call("POST", "/token/init", admin, {"serial": serial, "type": kind, "otpkeyformat": "base32check",
                                                         "otpkey": base32check(os.urandom(8))})) == (400, 905)
    assert row(api, serial).rollout_state == "clientwait"
    client = os.urandom(10)
    second = init(api, admin, serial=serial, type=kind, otpkey=base32check(client), otpkeyformat="base32check")
    assert second == {"serial": serial, "rollout_state": ""}
    key = hashlib.pbkdf2_hmac("sha1", server.hex().encode(), client, 1000, 20)
    assert validate(api, "alice", current_otp(api, kind, key))


def test_two_steps_without_verification_and_one_step_anew(api: Api) -> None:
    api.policy("admins", scope="admin", action="enrollHOTP, hotp_2step=force")
    api.policy("verify", scope="enrollment", action="verify_enrollment=hotp")
    admin = api.admin()
    first = init(api, admin, type="hotp", genkey="1")
    assert first["rollout_state"] == "clientwait" and "verify" not in first
    client = os.urandom(8)
    assert init(api, admin, serial=first["serial"], type="hotp", otpkey=base32check(client),
                otpkeyformat="base32check")["rollout_state"] == ""
    # A waiting token enrolled anew in one step (force is for new tokens) has its whole key, and
    # now enrollment verification applies.
    waiting = init(api, admin, type="hotp", genkey="1")["serial"]
    assert init(api, admin, type="hotp", genkey="1", serial=waiting)["rollout_state"] == "verify"
    assert row(api, waiting).active


@pytest.mark.policy_action("user", "hotp_2step")
@pytest.mark.policy_action("user", "totp_2step")
def test_users_may_ask_for_two_steps_only_when_a_policy_allows_it(api: Api) -> None:
    bob = api.user("bob")
    api.policy("self", scope="user", realm="example", action=USER_RIGHTS)
    for kind in ("hotp", "totp"):
        assert init(api, bob, type=kind, genkey="1", **{"2stepinit": "1"})["rollout_state"] == ""
    api.policy("self", scope="user", realm="example", action=f"{USER_RIGHTS}, hotp_2step=allow, totp_2step=allow")
    for kind in ("hotp", "totp"):
        detail = init(api, bob, type=kind, genkey="1", **{"2stepinit": "1"})
        assert (detail["rollout_state"], url_params(detail)["2step_salt"], url_params(detail)["2step_difficulty"]) == (
            "clientwait", "8", "10000")
        assert init(api, bob, type=kind, genkey="1")["rollout_state"] == ""  # allowed, not forced


@pytest.mark.policy_action("enrollment", "appimageurl")
@pytest.mark.policy_action("enrollment", "hotp_force_app_pin")
@pytest.mark.policy_action("enrollment", "totp_force_app_pin")
def test_the_otpauth_url_carries_the_image_and_the_forced_app_pin(api: Api) -> None:
    api.policy("self", scope="user", realm="example", action=USER_RIGHTS)
    bob, admin = api.user("bob"), api.admin()
    assert {"image", "pin"}.isdisjoint(url_params(init(api, bob, type="hotp", genkey="1")))
    api.policy("app", scope="enrollment", realm="example",
               action="appimageurl=https://img.example/logo.png, hotp_force_app_pin")
    hotp = url_params(init(api, bob, type="hotp", genkey="1"))
    assert (hotp["image"], hotp["pin"]) == ("https://img.example/logo.png", "True")
    assert "pin" not in url_params(init(api, admin, type="totp", genkey="1", user="alice"))
    api.policy("app", scope="enrollment", realm="example", action="totp_force_app_pin")
    totp = url_params(init(api, admin, type="totp", genkey="1", user="alice"))
    assert totp["pin"] == "True" and "image" not in totp


@pytest.fixture
def stored(people: Api) -> Api:
    """The engine decides by the stored policies (the wired core fixes its settings)."""
    people.core.auth.engine.policies = PolicyAuthPolicies(people.ctx.policies, "node", directory=people.core.directory)
    return people


def check(api: Api, user: str, password: str, realm: str = "example") -> dict[str, Any]:
    status, body = api.call("POST", "/validate/check", params={"user": user, "realm": realm, "pass": password})
    assert status == 200, body
    return body


def owner(api: Api, serial: str) -> str | None:
    (token,) = ok(api.call("GET", "/token/", api.admin(), {"serial": serial}))["tokens"]
    return token["username"] or None


@pytest.mark.policy_action("enrollment", "autoassignment")
def test_any_pin_gives_a_user_without_tokens_the_unowned_realm_token_she_uses(stored: Api) -> None:
    admin = stored.admin()
    serial = init(stored, admin, type="hotp", otpkey=RFC_SEED_HEX, tokenrealm="example")["serial"]
    assert not check(stored, "alice", "mypin" + RFC4226[0])["result"]["value"]  # no policy: no token
    stored.policy("auto", scope="enrollment", realm="example", action="autoassignment=any_pin")
    assert not check(stored, "alice", "mypin111111")["result"]["value"]  # a wrong value
    assert owner(stored, serial) is None
    body = check(stored, "alice", "mypin" + RFC4226[0])
    assert body["result"]["value"] is True
    assert (body["detail"]["message"], body["detail"]["serial"]) == ("Token assigned to user via Autoassignment",
                                                                     serial)
    assert owner(stored, serial) == "alice"
    # The PIN given became the token's PIN, the value is used up, and bob cannot take alice's token.
    assert not check(stored, "alice", "other" + RFC4226[1])["result"]["value"]
    assert check(stored, "alice", "mypin" + RFC4226[2])["result"]["value"]
    assert not check(stored, "bob", "bobpin" + RFC4226[3])["result"]["value"]
    assert owner(stored, serial) == "alice"


@pytest.mark.policy_action("enrollment", "autoassignment")
def test_userstore_takes_the_user_store_password_as_the_pin(stored: Api) -> None:
    serial = init(stored, stored.admin(), type="hotp", otpkey=RFC_SEED_HEX, tokenrealm="sales")["serial"]
    stored.policy("auto", scope="enrollment", realm="sales", action="autoassignment=userstore")
    assert not check(stored, "dave", "not-daves-pw" + RFC4226[0], "sales")["result"]["value"]
    assert owner(stored, serial) is None
    assert check(stored, "dave", PASSWORDS["dave"] + RFC4226[0], "sales")["result"]["value"]
    assert owner(stored, serial) == "dave"
    assert check(stored, "dave", PASSWORDS["dave"] + RFC4226[1], "sales")["result"]["value"]
