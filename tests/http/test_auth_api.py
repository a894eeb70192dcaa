"""POST /auth and the JWT it issues: who logs in as what, the spec's response fields, the
401 answers for every kind of bad token, and the rate limit of failed logins."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from treq.testing import StubTreq

from tesserad.admin_web.health import Health
from tesserad.admin_web.site import Root, build_site
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.core.sessions import ADMIN, Identity, Sessions
from tesserad.core.store.models import AuditEntry

from tests.helpers import run_inline
from tests.http.people import ADMIN_PASSWORD, PASSWORDS
from tests.http.restapi import Api
from tests.wired import RFC4226, RFC_SEED_HEX


def login(api: Api, username: str, password: str, **extra: str) -> tuple[int, Any]:
    return api.call("POST", "/auth", params={"username": username, "password": password, **extra})


def audit_rows(api: Api, action: str) -> list[AuditEntry]:
    with api.core.database.session() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        session.expunge_all()
    return rows


def worker(api: Api) -> Api:
    """Another worker process over the same database and key file."""
    root = Root(Health(run_inline, lambda: None))
    rest = root.attach(run_inline, api.ctx, api.rest.config)
    return Api(api.core, api.ctx, rest, StubTreq(build_site(root).resource))


def test_local_admin_login_answers_the_spec_fields(people: Api) -> None:
    status, body = login(people, "root", ADMIN_PASSWORD)
    assert status == 200 and body["result"]["status"] is True
    value = body["result"]["value"]
    assert (value["role"], value["username"], value["realm"]) == ("admin", "root", "")
    assert {"tokenlist", "enrollHOTP", "triggerchallenge", "policyread"} <= set(value["rights"])
    assert {"tokens", "users", "config", "audit"} <= set(value["menus"])
    assert {k: value[k] for k in ("logout_time", "audit_page_size", "token_page_size", "user_page_size",
                                  "default_tokentype", "timeout_action", "token_wizard", "hide_buttons",
                                  "qr_image_android", "subscription_status")} == {
        "logout_time": 120, "audit_page_size": 10, "token_page_size": 15, "user_page_size": 15,
        "default_tokentype": "hotp", "timeout_action": "lockscreen", "token_wizard": False,
        "hide_buttons": False, "qr_image_android": None, "subscription_status": 0}
    status, body = people.call("GET", "/auth/rights", value["token"])
    assert status == 200 and body["result"]["value"]["hotp"] == "HOTP Event Token"


def test_realm_users_log_in_as_users_and_superuser_realms_as_admins(people: Api) -> None:
    status, body = login(people, "dave@sales", PASSWORDS["dave"])
    assert status == 200
    value = body["result"]["value"]
    assert (value["role"], value["username"], value["realm"]) == ("user", "dave", "sales")
    assert "tokenlist" not in value["rights"] and "enrollHOTP" in value["rights"]
    status, body = people.call("GET", "/auth/rights", value["token"])
    assert "hotp" in body["result"]["value"] and "pw" not in body["result"]["value"]  # pw: admins only
    status, body = login(people, "sam", PASSWORDS["sam"], realm="staff")
    assert status == 200
    assert (body["result"]["value"]["role"], body["result"]["value"]["realm"]) == ("admin", "staff")


@pytest.mark.policy_action("webui", "logout_time")
@pytest.mark.policy_action("webui", "token_page_size")
@pytest.mark.policy_action("webui", "hide_buttons")
@pytest.mark.policy_action("webui", "token_rollover")
def test_webui_policies_reach_the_login_answer(people: Api) -> None:
    people.policy("ui", scope="webui", action="logout_time=300, token_page_size=50, hide_buttons, "
                                             "token_rollover=hotp totp", realm="sales")
    value = login(people, "erin@sales", PASSWORDS["erin"])[1]["result"]["value"]
    assert (value["logout_time"], value["token_page_size"], value["hide_buttons"]) == (300, 50, True)
    assert value["token_rollover"] == ["hotp", "totp"]
    admin = login(people, "root", ADMIN_PASSWORD)[1]["result"]["value"]
    assert (admin["logout_time"], admin["hide_buttons"]) == (120, False)  # a realm policy, not for local admins


def test_failed_login_is_401_and_audited_without_the_password(people: Api) -> None:
    status, body = login(people, "root", "Wrong-Secret-42")
    assert status == 401
    assert body["result"]["error"] == {"code": 4031, "message": "ERR4031: Authentication failure. Wrong credentials"}
    status, body = login(people, "nobody", "Wrong-Secret-42")
    assert status == 401 and body["result"]["error"]["code"] == 4031
    status, body = login(people, "", "x")
    assert status == 401 and body["result"]["error"]["code"] == 4032
    rows = audit_rows(people, "POST /auth")
    assert [(r.success, r.user) for r in rows] == [(False, "root"), (False, "nobody"), (False, "")]
    for row in rows:
        assert all("Wrong-Secret-42" not in str(getattr(row, c.name)) for c in AuditEntry.__table__.columns)
        assert people.core.auditor.verify(row)


@pytest.mark.policy_action("webui", "login_mode")
def test_login_modes_of_the_webui_policy(people: Api) -> None:
    people.policy("off", scope="webui", action="login_mode=disable", realm="sales", user="erin")
    status, body = login(people, "erin@sales", PASSWORDS["erin"])
    assert status == 401 and "disabled" in body["result"]["error"]["message"]
    people.policy("tokens", scope="webui", action="login_mode=privacyIDEA", realm="sales", user="dave")
    with people.core.database.session() as session:
        dave = people.core.directory.resolve(session, "dave@sales", None)
        people.core.tokens.init(session, {"type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "12"}, dave)
        session.commit()
    assert login(people, "dave@sales", PASSWORDS["dave"])[0] == 401  # the store password no longer does
    status, body = login(people, "dave@sales", "12" + RFC4226[0])
    assert status == 200 and body["result"]["value"]["role"] == "user"
    people.core.settings(challenge_response=frozenset({"hotp"}))
    status, body = login(people, "dave@sales", "12")
    assert status == 401 and body["result"]["error"]["code"] == 4031
    transaction_id = body["detail"]["transaction_id"]
    assert body["detail"]["multi_challenge"][0]["type"] == "hotp"
    status, body = login(people, "dave@sales", RFC4226[1], transaction_id=transaction_id)
    assert status == 200 and body["result"]["value"]["username"] == "dave"


def test_every_bad_token_is_a_precise_401(people: Api) -> None:
    def error(**headers: str) -> tuple[int, int]:
        status, body = people.call("GET", "/token/", headers=headers)
        return status, body["result"]["error"]["code"]

    good = people.admin("root")
    assert error() == (401, 4033)
    assert error(Authorization="not-a-jwt") == (401, 4304)
    foreign = Sessions(KeyFileSecurityModule(KeyMaterial.generate()), people.core.clock, 3600)
    assert error(Authorization=foreign.issue(Identity(ADMIN, "root"), [])) == (401, 4304)
    status, _ = people.call("GET", "/token/", headers={"Authorization": "garbage", "PI-Authorization": good})
    assert status == 200
    assert people.call("GET", "/token/", headers={"Authorization": f"Bearer {good}"})[0] == 200
    status, body = people.call("GET", "/token/challenges/", people.user("dave", "sales"))
    assert (status, body["result"]["error"]["code"]) == (401, 4306)
    people.core.clock.advance(3601)
    assert error(Authorization=good) == (401, 4305)


def test_tokens_of_one_process_are_good_in_another(people: Api) -> None:
    """Every worker derives the same signing key from the key file."""
    token = login(people, "root", ADMIN_PASSWORD)[1]["result"]["value"]["token"]
    assert worker(people).call("GET", "/token/", token)[0] == 200


def test_failed_logins_are_limited_per_user(people: Api) -> None:
    people.configure(login_failures_per_user=3)
    for _ in range(3):
        assert login(people, "root", "wrong-one")[0] == 401
    status, body = login(people, "root", ADMIN_PASSWORD)
    assert status == 401 and "Too many failed logins" in body["result"]["error"]["message"]
    assert login(people, "dave@sales", PASSWORDS["dave"])[0] == 200  # others are not affected
    people.core.clock.advance(301)
    assert login(people, "root", ADMIN_PASSWORD)[0] == 200
    for _ in range(3):  # the success forgave the failures
        assert login(people, "root", "wrong-one")[0] == 401
    assert login(people, "root", ADMIN_PASSWORD)[0] == 401


def test_failed_logins_are_limited_per_client_across_processes(people: Api) -> None:
    people.configure(login_failures_per_client=2)
    second_worker = worker(people)
    assert login(people, "root", "wrong")[0] == 401
    assert login(second_worker, "erin@sales", "wrong")[0] == 401
    status, body = login(people, "dave@sales", PASSWORDS["dave"])
    assert status == 401 and "Too many failed logins" in body["result"]["error"]["message"]
