"""Enrollment inside the login (enroll_via_multichallenge) over /validate/check: a user
without a token who logs in with the user-store password (passthru) gets a challenge with
the QR code of a new token (``detail.image``) and finishes with its first OTP value."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tesserad.core.policy.auth import PolicyAuthPolicies
from tesserad.core.tokens import oath
from tesserad.core.tokens.otpauth import otpauth_uri, qr_data_uri
from tesserad.core.users.hashes import hash_password

from tests.http.restapi import Api
from tests.http.test_token_api import listed

# dave has no token, only a password in the user store.
DAVE = "dave:{hash}:1003:1003:Dave Lister,,,:/home/dave:/bin/bash\n"
DAVE_PASSWORD = "red-dwarf-3"


def add_dave(passwd: Path) -> None:
    with passwd.open("a") as out:
        out.write(DAVE.format(hash=hash_password(DAVE_PASSWORD, "SHA512CRYPT")))


def otp_of(url: str, counter: int = 0) -> str:
    """The value an authenticator app that scanned ``url`` (an otpauth:// HOTP URI) shows."""
    query = parse_qs(urlparse(url).query)
    secret = query["secret"][0]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return oath.hotp(key, counter, int(query.get("digits", ["6"])[0]))


def enrollment_url(text: str) -> str:
    match = re.search(r"otpauth://\S+", text)
    assert match, text
    return match.group(0)


@pytest.fixture
def stored(api: Api, tmp_path: Path) -> Api:
    """Stored policies decide; dave logs in with his password while he has no token, and
    enrolls an HOTP token then."""
    api.core.auth.engine.policies = PolicyAuthPolicies(api.ctx.policies, "node", directory=api.core.directory)
    add_dave(tmp_path / "passwd")
    api.policy("passthru", scope="authentication", action="passthru=userstore")
    api.policy("enroll", scope="authentication", action="enroll_via_multichallenge=hotp")
    return api


def check(api: Api, password: str, **params: str) -> dict[str, Any]:
    status, body = api.call("POST", "/validate/check", params={"user": "dave", "pass": password, **params})
    assert status == 200, body
    return body


def dave_tokens(api: Api) -> list[dict[str, Any]]:
    return listed(api, api.admin(), user="dave", realm="example")["tokens"]


def seed(api: Api, serial: str) -> bytes:
    with api.core.database.session() as session:
        return api.core.tokens.get(session, serial).secret()


def expected_url(api: Api, serial: str, label: str = "dave@example", issuer: str = "Tessera") -> str:
    """The otpauth URL of a new HOTP token (what the QR code must hold)."""
    return otpauth_uri("hotp", seed(api, serial), label, issuer, digits=6, hashlib_name="sha1", counter=0)


@pytest.mark.policy_action("authentication", "enroll_via_multichallenge")
def test_a_user_without_a_token_enrolls_one_inside_the_login(stored: Api) -> None:
    stored.policy("label", scope="enrollment", action="tokenlabel={user}@{realm}, tokenissuer=Tessera")
    body = check(stored, DAVE_PASSWORD)
    assert body["result"] == {"status": True, "value": False, "authentication": "CHALLENGE"}
    detail = body["detail"]
    [challenge] = detail["multi_challenge"]
    serial = detail["serial"]
    assert (detail["message"], detail["type"], challenge["serial"]) == ("Please scan the QR code!", "hotp", serial)
    # The QR code of the new token's otpauth URL, with the enrollment policies' label and issuer.
    url = expected_url(stored, serial)
    assert detail["image"] == challenge["image"] == qr_data_uri(url)
    assert "otpauth" not in detail["message"]
    [waiting] = dave_tokens(stored)
    assert (waiting["serial"], waiting["rollout_state"]) == (serial, "clientwait")

    wrong = check(stored, "000000", transaction_id=detail["transaction_id"])
    assert wrong["result"]["authentication"] == "REJECT"
    done = check(stored, otp_of(url, 0), transaction_id=detail["transaction_id"])
    assert done["result"] == {"status": True, "value": True, "authentication": "ACCEPT"}, done
    assert (done["detail"]["serial"], dave_tokens(stored)[0]["rollout_state"]) == (serial, "enrolled")

    # Now dave has a token: the password alone no longer passes, the token does (no PIN was set).
    assert check(stored, DAVE_PASSWORD)["result"]["authentication"] == "REJECT"
    again = check(stored, otp_of(url, 1))
    assert again["result"]["authentication"] == "ACCEPT" and "image" not in again["detail"]


@pytest.mark.policy_action("authentication", "enroll_via_multichallenge")
def test_an_unanswered_enrollment_is_replaced_at_the_next_login(stored: Api) -> None:
    first = check(stored, DAVE_PASSWORD)["detail"]
    second = check(stored, DAVE_PASSWORD)["detail"]
    assert second["message"] == "Please scan the QR code!" and second["serial"] != first["serial"]
    assert [t["serial"] for t in dave_tokens(stored)] == [second["serial"]]
    # The first transaction died with its token.
    url = expected_url(stored, second["serial"], second["serial"], "tesserad")
    assert check(stored, otp_of(url), transaction_id=first["transaction_id"])["result"]["authentication"] == "REJECT"
    assert check(stored, otp_of(url), transaction_id=second["transaction_id"])["result"]["authentication"] == "ACCEPT"


@pytest.mark.policy_action("authentication", "enroll_via_multichallenge")
def test_a_token_limit_leaves_the_login_without_enrollment(stored: Api) -> None:
    stored.policy("limit", scope="enrollment", action="max_token_per_user=0")
    body = check(stored, DAVE_PASSWORD)
    assert body["result"]["authentication"] == "ACCEPT"
    assert body["detail"]["message"] == "against userstore due to 'passthru'"
    assert dave_tokens(stored) == []
    # Without the policy nothing is enrolled either.
    stored.policy("limit", scope="enrollment", action="max_token_per_user=5")
    stored.policy("enroll", scope="authentication", action="enroll_via_multichallenge=hotp", active=False)
    assert check(stored, DAVE_PASSWORD)["result"]["authentication"] == "ACCEPT" and dave_tokens(stored) == []


def test_push_email_and_sms_are_refused_until_their_types_exist(stored: Api) -> None:
    status, body = stored.call("POST", "/policy/p", stored.admin(), {
        "scope": "authentication", "action": "enroll_via_multichallenge=push"})
    assert status == 400 and "enroll_via_multichallenge" in body["result"]["error"]["message"], body


@pytest.mark.policy_action("authentication", "enroll_via_multichallenge")
def test_a_totp_token_enrolled_inside_the_login(stored: Api) -> None:
    stored.policy("enroll", scope="authentication", action="enroll_via_multichallenge=totp")
    stored.policy("step", scope="user", action="totp_timestep=60")
    detail = check(stored, DAVE_PASSWORD)["detail"]
    assert (detail["message"], detail["type"]) == ("Please scan the QR code!", "totp")
    key = seed(stored, detail["serial"])
    url = otpauth_uri("totp", key, detail["serial"], "tesserad", digits=6, hashlib_name="sha1", period=60)
    assert detail["image"] == qr_data_uri(url)  # with the user's forced time step
    value = oath.hotp(key, oath.time_step(stored.core.clock.now(), 60))
    done = check(stored, value, transaction_id=detail["transaction_id"])
    assert done["result"]["authentication"] == "ACCEPT", done


@pytest.mark.policy_action("authentication", "enroll_via_multichallenge")
def test_a_token_of_another_type_leads_to_the_enrollment_and_a_refused_login_to_none(stored: Api) -> None:
    status, body = stored.call("POST", "/token/init", stored.admin(), {
        "type": "spass", "pin": "dave-pin", "user": "dave", "realm": "example"})
    assert status == 200, body
    body = check(stored, "dave-pin")
    assert body["result"]["authentication"] == "CHALLENGE" and body["detail"]["type"] == "hotp"
    # An authorization policy that refuses the login refuses the enrollment with it.
    stored.policy("deny", scope="authorization", action="authorized=deny_access")
    status, refused = stored.call("POST", "/validate/check", params={"user": "dave", "pass": "dave-pin"})
    assert refused["result"]["status"] is False, refused
    waiting = body["detail"]["serial"]  # the first enrollment's token, still waiting, not replaced
    assert sorted(t["tokentype"] for t in dave_tokens(stored)) == ["hotp", "spass"]
    assert waiting in [t["serial"] for t in dave_tokens(stored)]
