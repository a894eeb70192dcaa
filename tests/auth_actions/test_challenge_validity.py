"""How long a challenge stays answerable, per token type: the system settings
``<Type>ChallengeValidityTime`` (e.g. ``HotpChallengeValidityTime``) over
``DefaultChallengeValidityTime``, as privacyIDEA's token classes read them; the RADIUS
Access-Challenge's Session-Timeout follows."""

from __future__ import annotations

from pyrad import packet as rp

from tesserad.radius import wire

from tests.auth_actions.conftest import Radius, check
from tests.http.restapi import Api
from tests.http.test_token_api import enroll, error, ok
from tests.radius.nas import access_request
from tests.wired import RFC4226


def challenge(api: Api) -> str:
    body = check(api, "1234")
    assert body["result"]["authentication"] == "CHALLENGE", body
    return str(body["detail"]["transaction_id"])


def test_a_type_setting_overrides_the_default_validity(stored: Api) -> None:
    admin = stored.admin()
    enroll(stored, admin, user="alice", pin="1234", serial="HOTP1")
    stored.policy("cr", scope="authentication", action="challenge_response=hotp totp")
    ok(stored.call("POST", "/system/setConfig", admin, {"HotpChallengeValidityTime": "30",
                                                        "TotpChallengeValidityTime": "600"}))
    tid = challenge(stored)
    stored.core.clock.advance(31)
    assert check(stored, RFC4226[0], transaction_id=tid)["result"]["authentication"] == "REJECT"
    tid = challenge(stored)
    stored.core.clock.advance(29)
    assert check(stored, RFC4226[0], transaction_id=tid)["result"]["authentication"] == "ACCEPT"
    # Without the type's setting: DefaultChallengeValidityTime (120 s).
    assert ok(stored.call("DELETE", "/system/HotpChallengeValidityTime", admin)) is True
    tid = challenge(stored)
    stored.core.clock.advance(100)
    assert check(stored, RFC4226[1], transaction_id=tid)["result"]["authentication"] == "ACCEPT"


def test_a_malformed_validity_is_refused(stored: Api) -> None:
    admin = stored.admin()
    for value in ("soon", "0", "-5"):
        assert error(stored.call("POST", "/system/setConfig", admin, {"HotpChallengeValidityTime": value})) \
            == (400, 905)
    assert error(stored.call("POST", "/system/setConfig", admin, {"FooChallengeValidityTime": "30"})) == (400, 905)


def test_radius_session_timeout_follows_the_type_validity(radius: Radius) -> None:
    api = radius.api
    enroll(api, api.admin(), user="alice", pin="1234", serial="HOTP1")
    enroll(api, api.admin(), user="alice", pin="1234", serial="TOTP1", type="totp")
    api.policy("cr", scope="authentication", action="challenge_response=hotp totp")
    ok(api.call("POST", "/system/setConfig", api.admin(), {"HotpChallengeValidityTime": "45",
                                                           "TotpChallengeValidityTime": "90"}))
    answer = radius.ask(access_request("alice", "1234"))
    assert answer.code == rp.AccessChallenge
    assert answer["Session-Timeout"] == [45]  # the first of the challenges to expire
    [state] = wire.raw_values(answer, wire.STATE)
    api.core.clock.advance(60)  # the HOTP challenge is gone, the TOTP one still open
    assert radius.ask(access_request("alice", RFC4226[0], state=state)).code == rp.AccessReject
