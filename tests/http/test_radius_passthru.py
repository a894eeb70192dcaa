"""passthru=<RADIUS server> and passthru_assign through /validate/check: a user without a
token is decided by the upstream RADIUS server (a real UDP server on loopback): Accept lets
in, Reject refuses, silence is 503 (ask again elsewhere). With passthru_assign the OTP in
the accepted password finds an unowned token of the realm, which becomes the user's with
the PIN part as its PIN; from then on the user logs in with that token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.http.restapi import Api
from tests.http.test_authentication_policies import accepted, check, stored  # noqa: F401  (a fixture)
from tests.http.test_token_api import enroll, listed, ok
from tests.radius_upstream import Upstream, upstream
from tests.wired import RFC4226

SECRET = "Passthru-secret-5"
UPSTREAM_PASSWORDS = {"dave": "dave-old-otp-7", "erin": "1234" + RFC4226[0]}


@pytest.fixture
def radius(stored: Api) -> Iterator[tuple[Api, Upstream]]:  # noqa: F811
    for server in upstream(SECRET.encode(), UPSTREAM_PASSWORDS, silent={"sam"}):
        ok(stored.call("POST", "/radiusserver/radius1", stored.admin(),
                       {"server": "127.0.0.1", "port": str(server.port), "secret": SECRET,
                        "timeout": "1", "retries": "0"}))
        yield stored, server


def validate(api: Api, user: str, password: str) -> tuple[int, dict[str, Any]]:
    return api.call("POST", "/validate/check", params={"user": user, "pass": password})


@pytest.mark.policy_action("authentication", "passthru")
def test_the_radius_server_decides_for_users_without_tokens(radius: tuple[Api, Upstream]) -> None:
    api, server = radius
    assert not accepted(check(api, UPSTREAM_PASSWORDS["dave"], "dave@sales"))
    assert server.seen == []  # no policy, no question
    api.policy("pass", scope="authentication", action="passthru=radius1")
    body = check(api, UPSTREAM_PASSWORDS["dave"], "dave@sales")
    assert accepted(body) and body["detail"]["message"] == "against RADIUS server radius1 due to 'passthru'"
    assert not accepted(check(api, "dave-pw-1", "dave@sales"))  # the user-store password is not asked
    assert [(s.user, s.message_authenticator_ok) for s in server.seen] == [("dave", True), ("dave", True)]


@pytest.mark.policy_action("authentication", "passthru")
def test_silence_is_503_and_an_undefined_server_a_clear_error(radius: tuple[Api, Upstream]) -> None:
    api, server = radius
    api.policy("pass", scope="authentication", action="passthru=radius1")
    status, body = validate(api, "sam@staff", "anything")
    assert status == 503 and body["result"]["error"]["code"] == 903, body
    assert [s.user for s in server.seen] == ["sam"]
    api.policy("pass", scope="authentication", action="passthru=radius2")
    status, body = validate(api, "dave@sales", UPSTREAM_PASSWORDS["dave"])
    assert status == 404 and "The RADIUS server 'radius2' of the passthru policy does not exist" in \
        body["result"]["error"]["message"]


@pytest.mark.policy_action("authentication", "passthru_assign")
@pytest.mark.policy_action("authentication", "passthru")
def test_passthru_assign_gives_the_user_the_token_of_the_otp(radius: tuple[Api, Upstream]) -> None:
    api, server = radius
    admin = api.admin()
    serial, _ = enroll(api, admin, tokenrealm="sales")
    other, _ = enroll(api, admin, tokenrealm="sales", otpkey="3132333435363738393031323334353637383930FF")
    api.policy("pass", scope="authentication", action="passthru=radius1, passthru_assign=pin:6:10")
    # Rejected by the RADIUS server: nothing is assigned.
    assert not accepted(check(api, "9999" + RFC4226[0], "erin@sales"))
    assert listed(api, admin, serial=serial)["tokens"][0]["username"] == ""
    body = check(api, UPSTREAM_PASSWORDS["erin"], "erin@sales")
    assert accepted(body) and body["detail"]["serial"] == serial, body
    assert "assigned due to 'passthru_assign'" in body["detail"]["message"]
    token = listed(api, admin, serial=serial)["tokens"][0]
    assert (token["username"], token["realms"]) == ("erin", ["sales"])
    assert listed(api, admin, serial=other)["tokens"][0]["username"] == ""
    # Now erin has a token: she logs in with its PIN and the next OTP; RADIUS is not asked.
    asked = len(server.seen)
    assert accepted(check(api, "1234" + RFC4226[1], "erin@sales"))
    assert not accepted(check(api, "1234" + RFC4226[1], "erin@sales"))  # used up
    assert not accepted(check(api, "0000" + RFC4226[2], "erin@sales"))  # wrong PIN
    assert len(server.seen) == asked


@pytest.mark.policy_action("authentication", "passthru_assign")
def test_passthru_assign_looks_only_as_far_as_its_window(radius: tuple[Api, Upstream]) -> None:
    """6:pin puts the OTP first; an OTP beyond the window of values finds no token, and
    the login is still accepted (the RADIUS server said yes)."""
    api, server = radius
    admin = api.admin()
    serial, _ = enroll(api, admin, tokenrealm="sales")
    server.passwords["dave"] = RFC4226[5] + "4321"
    api.policy("pass", scope="authentication", action="passthru=radius1, passthru_assign=6:pin:3")
    body = check(api, RFC4226[5] + "4321", "dave@sales")
    assert accepted(body) and "serial" not in body["detail"], body
    assert listed(api, admin, serial=serial)["tokens"][0]["username"] == ""
    api.policy("pass", scope="authentication", action="passthru=radius1, passthru_assign=6:pin:10")
    assert check(api, RFC4226[5] + "4321", "dave@sales")["detail"]["serial"] == serial
    assert accepted(check(api, "4321" + RFC4226[6], "dave@sales"))
