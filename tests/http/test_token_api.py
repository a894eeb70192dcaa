"""/token/* in memory: each endpoint's answer as the spec shapes it, the enrollment policies,
and bad input answered with precise errors that change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tesserad.core.store.models import AuditEntry, Token, TokenGroup

from tests.http.restapi import Api, resolved
from tests.wired import RFC4226, RFC_SEED_HEX

TOKEN_KEYS = {"id", "serial", "tokentype", "description", "active", "revoked", "locked", "failcount", "maxfail",
              "count", "count_window", "sync_window", "otplen", "info", "realms", "resolver", "user_id",
              "rollout_state", "tokengroup", "username", "user_realm", "user_editable"}


def ok(answer: tuple[int, Any]) -> Any:
    status, body = answer
    assert status == 200, body
    return body["result"]["value"]


def error(answer: tuple[int, Any]) -> tuple[int, int]:
    status, body = answer
    assert body["result"]["status"] is False
    return status, body["result"]["error"]["code"]


def enroll(api: Api, token: str, **params: str) -> tuple[str, dict[str, Any]]:
    status, body = api.call("POST", "/token/init", token, {"type": "hotp", "otpkey": RFC_SEED_HEX, **params})
    assert status == 200, body
    return body["detail"]["serial"], body["detail"]


def listed(api: Api, token: str, **filters: Any) -> dict[str, Any]:
    return ok(api.call("GET", "/token/", token, filters))


def row(api: Api, serial: str) -> Token | None:
    with api.core.database.session() as session:
        found = session.scalar(select(Token).where(Token.serial == serial))
        session.expunge_all()
    return found


def test_enroll_and_list_with_the_spec_fields(api: Api) -> None:
    admin = api.admin()
    status, body = api.call("POST", "/token/init", admin, {"type": "hotp", "genkey": "1", "user": "alice",
                                                           "description": "phone"})
    assert status == 200 and body["result"]["value"] is True
    detail = body["detail"]
    assert detail["googleurl"]["value"].startswith("otpauth://hotp/") and detail["otpkey"]["value"].startswith("seed://")
    assert detail["oathurl"]["value"].startswith("oathtoken:///addToken") and detail["rollout_state"] == ""
    page = listed(api, admin)
    assert (page["count"], page["current"], page["prev"], page["next"]) == (1, 1, None, None)
    (token,) = page["tokens"]
    assert set(token) == TOKEN_KEYS
    assert (token["serial"], token["tokentype"], token["username"], token["user_realm"], token["realms"],
            token["description"], token["info"]) == (detail["serial"], "hotp", "alice", "example", ["example"],
                                                     "phone", {"hashlib": "sha1"})
    (audit,) = [r for r in audit_rows(api) if r.action == "POST /token/init"]
    assert (audit.success, audit.serial, audit.administrator, audit.user, audit.realm) == (
        True, detail["serial"], "admin", "alice", "example")


def audit_rows(api: Api) -> list[AuditEntry]:
    with api.core.database.session() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        session.expunge_all()
    return rows


def test_list_filters_sorting_and_paging(api: Api) -> None:
    admin = api.admin()
    for n in range(5):
        enroll(api, admin, serial=f"LIST{n}", type="totp" if n % 2 else "hotp",
               **({"user": "bob"} if n < 2 else {}))
    ok(api.call("POST", "/token/disable/LIST4", admin))
    page = listed(api, admin, pagesize=2, page=2)
    assert ([t["serial"] for t in page["tokens"]], page["count"], page["prev"], page["next"]) == (
        ["LIST2", "LIST3"], 5, 1, 3)
    newest = listed(api, admin, sortby="serial", sortdir="desc")["tokens"]
    assert [t["serial"] for t in newest][:2] == ["LIST4", "LIST3"]
    assert listed(api, admin, type="totp")["count"] == 2
    assert listed(api, admin, serial="LIST*")["count"] == 5 and listed(api, admin, serial="LIST")["count"] == 0
    assert listed(api, admin, serial="L_ST*")["count"] == 0  # SQL wildcards are literal
    assert [t["serial"] for t in listed(api, admin, user="bob")["tokens"]] == ["LIST0", "LIST1"]
    assert listed(api, admin, assigned="false")["count"] == 3 and listed(api, admin, active="0")["count"] == 1
    assert listed(api, admin, infokey="hashlib", infovalue="sha1")["count"] == 5
    response = resolved(api.http.get("http://localhost/token/?outform=csv&pagesize=2",
                                     headers={"Authorization": admin}))
    assert response.headers.getRawHeaders("Content-Type") == ["text/csv; charset=utf-8"]
    lines = resolved(response.content()).decode().splitlines()
    assert lines[0].startswith("id,serial,tokentype,") and len(lines) == 3 and ',"{""hashlib"": ""sha1""}",' in lines[1]
    assert error(api.call("GET", "/token/", admin, {"pagesize": "many"})) == (400, 905)
    assert error(api.call("GET", "/token/", admin, {"sortdir": "upwards"})) == (400, 905)
    assert error(api.call("GET", "/token/", admin, {"sortby": "secret_enc"})) == (400, 905)
    assert error(api.call("GET", "/token/", admin, {"active": "perhaps"})) == (400, 905)


def test_state_changes_by_serial_and_by_user(api: Api) -> None:
    admin = api.admin()
    first, _ = enroll(api, admin, user="carol")
    enroll(api, admin, user="carol")
    assert ok(api.call("POST", "/token/disable", admin, {"user": "carol"})) == 2
    assert ok(api.call("POST", f"/token/enable/{first}", admin)) == 1
    assert [row(api, first).active] == [True]
    assert ok(api.call("POST", "/token/reset", admin, {"serial": first})) == 1
    assert ok(api.call("POST", "/token/revoke", admin, {"serial": first})) == 1
    assert (row(api, first).revoked, row(api, first).locked, row(api, first).active) == (True, True, False)
    assert error(api.call("POST", f"/token/enable/{first}", admin)) == (400, 301)
    assert ok(api.call("POST", "/token/unassign", admin, {"user": "carol"})) == 2
    assert ok(api.call("DELETE", f"/token/{first}", admin)) == 1
    assert error(api.call("DELETE", f"/token/{first}", admin)) == (404, 601)
    assert error(api.call("POST", "/token/enable", admin)) == (400, 905)  # neither serial nor user


def test_resync_pins_and_properties(api: Api) -> None:
    admin = api.admin()
    serial, _ = enroll(api, admin, user="alice")
    assert ok(api.call("POST", f"/token/resync/{serial}", admin, {"otp1": RFC4226[5], "otp2": RFC4226[6]})) is True
    assert row(api, serial).count == 7
    assert ok(api.call("POST", "/token/resync", admin, {"serial": serial, "otp1": "1", "otp2": "2"})) is False
    assert ok(api.call("POST", "/token/setpin", admin, {"serial": serial, "otppin": "4711"})) == 1
    assert api.core.check("4711" + RFC4226[7]).accepted
    assert error(api.call("POST", "/token/setpin", admin, {"serial": serial})) == (400, 905)
    values = {"description": "desk", "max_failcount": "3", "count_window": "20", "hashlib": "sha256",
              "validity_period_end": "2030-01-31T18:00+0100"}
    assert ok(api.call("POST", f"/token/set/{serial}", admin, values)) == 5
    token = row(api, serial)
    assert (token.description, token.maxfail, token.count_window) == ("desk", 3, 20)
    assert api.core.token_info(serial, "validity_period_end") == "2030-01-31T18:00+0100"
    for bad in ({"max_failcount": "lots"}, {"hashlib": "md5"}, {"validity_period_end": "tomorrow"}):
        assert error(api.call("POST", f"/token/set/{serial}", admin, bad)) == (400, 905)
    assert row(api, serial).maxfail == 3  # nothing of a refused call stays
    assert ok(api.call("POST", f"/token/description/{serial}", admin, {"description": "new"})) == 1
    assert ok(api.call("POST", f"/token/info/{serial}/purpose", admin, {"value": "vpn"})) is True
    assert api.core.token_info(serial, "purpose") == "vpn"
    assert ok(api.call("DELETE", f"/token/info/{serial}/purpose", admin)) is True
    assert api.core.token_info(serial, "purpose") is None


@pytest.mark.policy_action("admin", "otp_pin_set_random")
def test_random_pin_needs_its_policy(api: Api) -> None:
    admin = api.admin()
    serial, _ = enroll(api, admin, user="alice")
    assert error(api.call("POST", f"/token/setrandompin/{serial}", admin)) == (403, 303)
    api.policy("helpdesk", scope="admin", action="setrandompin, otp_pin_set_random=12")
    status, body = api.call("POST", f"/token/setrandompin/{serial}", admin)
    assert status == 200 and body["result"]["value"] == 1
    pin = body["detail"]["pin"]
    assert len(pin) == 12 and pin.isalnum()
    assert api.core.check(pin + RFC4226[0]).accepted


def test_realms_groups_copies_and_lost(api: Api) -> None:
    admin = api.admin()
    with api.core.database.session() as session:
        session.add_all([TokenGroup(name="vpn"), TokenGroup(name="mail")])
        session.commit()
    first, _ = enroll(api, admin, user="alice", pin="1111")
    second, _ = enroll(api, admin)
    assert ok(api.call("POST", f"/token/realm/{second}", admin, {"realms": "example"})) is True
    assert ok(api.call("POST", f"/token/group/{second}", admin, body={"groups": ["vpn", "mail"]})) is True
    assert ok(api.call("DELETE", f"/token/group/{second}/mail", admin)) is True
    assert ok(api.call("POST", f"/token/group/{second}/mail", admin)) is True
    assert error(api.call("POST", f"/token/group/{second}/none", admin)) == (400, 905)
    shown = listed(api, admin, serial=second)["tokens"][0]
    assert (shown["realms"], shown["tokengroup"]) == (["example"], ["mail", "vpn"])
    assert ok(api.call("POST", "/token/copyuser", admin, {"from": first, "to": second})) is True
    assert ok(api.call("POST", "/token/copypin", admin, {"from": first, "to": second})) is True
    assert api.core.check("1111" + RFC4226[0], serial=second, user=None).accepted
    lost = ok(api.call("POST", f"/token/lost/{first}", admin))
    assert set(lost) == {"serial", "password", "end_date", "valid_to", "init", "disable", "pin", "user"}
    assert (lost["serial"], lost["user"], lost["pin"], row(api, first).active) == (
        f"lost{first}", "alice@example", True, False)
    assert api.core.check("1111" + lost["password"]).accepted


def test_challenges_are_listed(api: Api) -> None:
    admin = api.admin()
    serial, _ = enroll(api, admin, user="alice", pin="77")
    api.core.settings(challenge_response=frozenset({"hotp"}))
    transaction_id = api.core.check("77").transaction_id
    page = ok(api.call("GET", "/token/challenges/", admin))
    assert page["count"] == 1 and page["challenges"][0]["transaction_id"] == transaction_id
    assert set(page["challenges"][0]) == {"id", "transaction_id", "challenge", "serial", "timestamp", "expiration",
                                          "received_count", "otp_valid"}
    assert ok(api.call("GET", f"/token/challenges/{serial}", admin, {"transaction_id": "1"}))["count"] == 0


@pytest.mark.policy_action("enrollment", "tokenlabel")
@pytest.mark.policy_action("enrollment", "tokenissuer")
@pytest.mark.policy_action("enrollment", "max_token_per_user")
def test_enrollment_policies(api: Api) -> None:
    admin = api.admin()
    api.policy("enroll", scope="enrollment", realm="example",
               action="tokenlabel={user}@{realm}, tokenissuer=ACME {serial}, max_token_per_user=2, "
                      "hotp_max_active_token_per_user=1")
    serial, detail = enroll(api, admin, user="alice", serial="LBL1")
    assert detail["googleurl"]["value"].startswith("otpauth://hotp/ACME%20LBL1:alice@example?")
    assert error(api.call("POST", "/token/init", admin, {"type": "hotp", "genkey": 1, "user": "alice"})) == (403, 303)
    enroll(api, admin, user="alice", type="totp")
    assert error(api.call("POST", "/token/init", admin, {"type": "spass", "user": "alice"})) == (403, 303)
    assert listed(api, admin, user="alice")["count"] == 2


@pytest.mark.policy_action("user", "enrollpin")
@pytest.mark.policy_action("user", "otp_pin_minlength")
@pytest.mark.policy_action("user", "otp_pin_contents")
@pytest.mark.policy_action("user", "hotp_hashlib")
@pytest.mark.policy_action("user", "hotp_otplen")
@pytest.mark.policy_action("user", "totp_force_server_generate")
def test_pin_rules_enrollpin_and_forced_parameters_for_users(api: Api) -> None:
    user = api.user("bob")
    rights = "enrollHOTP, enrollTOTP, hotp_hashlib=sha256, hotp_otplen=8, totp_force_server_generate"
    api.policy("self", scope="user", action=f"{rights}, enrollpin, otp_pin_minlength=4, otp_pin_contents=+cn")
    status, body = api.call("POST", "/token/init", user, {"type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "12"})
    assert (status, body["result"]["error"]["message"]) == (403, "ERR303: The minimum OTP PIN length is 4")
    assert error(api.call("POST", "/token/init", user, {"type": "hotp", "genkey": 1, "pin": "ab cd"})) == (403, 303)
    assert listed(api, user)["count"] == 0
    serial, _ = enroll(api, user, pin="ab12")
    assert (api.core.token_info(serial, "hashlib"), row(api, serial).otplen) == ("sha256", 8)
    assert row(api, serial).pin_hash is not None
    _, detail = enroll(api, user, type="totp")
    assert "otpkey" in detail  # the server generated the key although one was given
    assert error(api.call("POST", "/token/init", user, {"type": "spass"})) == (403, 303)
    assert error(api.call("POST", "/token/init", user, {"type": "pw", "otpkey": "x"})) == (403, 303)
    api.policy("self", action=rights)
    serial, _ = enroll(api, user, pin="ab12")
    assert row(api, serial).pin_hash is None  # without enrollpin the PIN is dropped


@pytest.mark.policy_action("enrollment", "otp_pin_random")
@pytest.mark.policy_action("enrollment", "encrypt_pin")
def test_random_and_encrypted_pins_at_enrollment(api: Api) -> None:
    admin = api.admin()
    api.policy("pins", scope="enrollment", action="otp_pin_random=6, encrypt_pin")
    serial, _ = enroll(api, admin, user="alice", pin="chosen")
    token = row(api, serial)
    assert token.pin_enc is not None and token.pin_hash is None
    assert not api.core.check("chosen" + RFC4226[0]).accepted  # the random PIN replaced it


@pytest.mark.policy_action("enrollment", "verify_enrollment")
def test_enrollment_verification(api: Api) -> None:
    admin = api.admin()
    api.policy("verify", scope="enrollment", action="verify_enrollment=hotp totp")
    serial, detail = enroll(api, admin, user="alice", pin="5")
    assert (detail["rollout_state"], detail["verify"]) == ("verify", {"message": "Please provide a valid OTP value."})
    assert not api.core.check("5" + RFC4226[0]).accepted  # not yet enrolled
    assert error(api.call("POST", "/token/init", admin, {"serial": serial, "type": "hotp", "verify": "000000"})) == (
        400, 905)
    assert row(api, serial).rollout_state == "verify"
    status, body = api.call("POST", "/token/init", admin, {"serial": serial, "type": "hotp", "verify": RFC4226[1]})
    assert status == 200 and body["detail"] == {"serial": serial, "rollout_state": "enrolled"}
    assert api.core.check("5" + RFC4226[2]).accepted


@pytest.mark.parametrize("raw, content_type", [
    (b'{"type": "hotp", "genkey": 1', "application/json"),
    (b'["type", "hotp"]', "application/json"),
    (b'{"type": "hotp", "genkey": 1, "serial": ["X1"]}', "application/json"),
    (b"type=hotp&genkey=1&serial=%ff", "application/x-www-form-urlencoded"),
])
def test_malformed_requests_change_nothing(api: Api, raw: bytes, content_type: str) -> None:
    admin = api.admin()
    status, body = api.call("POST", "/token/init", admin, raw=raw, headers={"Content-Type": content_type})
    assert (status, body["result"]["error"]["code"]) == (400, 905)
    assert listed(api, admin)["count"] == 0


def test_users_see_and_touch_only_their_own_tokens(api: Api) -> None:
    admin, bob = api.admin(), api.user("bob")
    mine, _ = enroll(api, bob, description="bob's")
    theirs, _ = enroll(api, admin, user="carol")
    spare, _ = enroll(api, admin)
    ok(api.call("POST", f"/token/realm/{spare}", admin, {"realms": "example"}))
    page = listed(api, bob)
    assert [t["serial"] for t in page["tokens"]] == [mine]
    assert listed(api, bob, user="carol")["count"] == 1  # the user parameter cannot widen the view
    for method, path, params in [("POST", "/token/disable", {"serial": theirs}), ("DELETE", f"/token/{theirs}", {}),
                                 ("POST", f"/token/setpin/{theirs}", {"otppin": "1"}),
                                 ("POST", f"/token/lost/{theirs}", {}),
                                 ("POST", "/token/resync", {"serial": theirs, "otp1": "1", "otp2": "2"})]:
        assert error(api.call(method, path, bob, params)) == (404, 601)
    assert row(api, theirs).active and row(api, theirs).pin_hash is None
    assert ok(api.call("POST", "/token/disable", bob)) == 1  # all own tokens
    assert ok(api.call("POST", "/token/assign", bob, {"serial": spare})) is True
    assert listed(api, bob)["count"] == 2
    api.policy("limited", scope="user", action="disable")
    assert error(api.call("POST", f"/token/description/{mine}", bob, {"description": "x"})) == (403, 303)
    assert error(api.call("POST", f"/token/set/{mine}", bob, {"description": "x"}))[0] == 401


def test_questions_may_come_as_a_json_object(api: Api) -> None:
    """The web UI's wizard (and privacyIDEA's) sends the questionnaire as an object."""
    questions = {f"Question {n}?": f"answer {n}" for n in range(5)}
    status, body = api.call("POST", "/token/init", api.admin(), body={"type": "question", "questions": questions})
    assert status == 200, body
    status, body = api.call("POST", "/token/init", api.admin(), body={"type": "question", "questions": [1, 2]})
    assert status == 400 and body["result"]["error"]["message"].endswith(
        "questions must be a JSON object {question: answer}"), body
