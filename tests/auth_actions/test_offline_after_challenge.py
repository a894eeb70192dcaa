"""The offline bag after a challenge answered with an offline token (PIN, challenge, OTP,
as privacyIDEA's PAM module logs in): ``auth_items.offline`` with hashes of the OTP values
alone, as privacyIDEA 3.8 sends them."""

from __future__ import annotations

from passlib.hash import pbkdf2_sha512

from tesserad.core.machines import service
from tesserad.core.tokens import oath

from tests.auth_actions.conftest import check
from tests.http.restapi import Api
from tests.http.test_token_api import enroll
from tests.wired import RFC4226, RFC_SEED_HEX


def test_the_answer_to_a_challenge_carries_the_bag(stored: Api) -> None:
    serial, _ = enroll(stored, stored.admin(), user="alice", pin="1234")
    stored.policy("cr", scope="authentication", action="challenge_response=hotp")
    with stored.core.database.session() as session:
        service.attach(session, serial, "offline", {"count": "4", "rounds": "20"})
        session.commit()
    challenge = check(stored, "1234")
    assert challenge["result"]["authentication"] == "CHALLENGE" and "auth_items" not in challenge
    body = check(stored, RFC4226[0], transaction_id=challenge["detail"]["transaction_id"])
    assert body["result"]["authentication"] == "ACCEPT"
    (item,) = body["auth_items"]["offline"]
    assert item["serial"] == serial and item["user"] == "alice" and item["count"] == "4"
    key = bytes.fromhex(RFC_SEED_HEX)
    assert sorted(item["response"], key=int) == ["1", "2", "3", "4"]
    for counter, hashed in item["response"].items():
        assert pbkdf2_sha512.verify(oath.hotp(key, int(counter)), hashed)
    # Those values are dead online, and the refill takes an offline value alone.
    assert check(stored, "1234" + RFC4226[2])["result"]["authentication"] == "REJECT"
    status, refilled = stored.call("POST", "/validate/offlinerefill", params={
        "serial": serial, "refilltoken": item["refilltoken"], "pass": RFC4226[2]})
    assert status == 200 and sorted(refilled["auth_items"]["offline"][0]["response"], key=int) == ["5", "6"]
