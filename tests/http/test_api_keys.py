"""API keys (``tesserad-manage api createtoken``), the ``api_key_required`` policy of
/validate, and login tokens of deleted admins."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tesserad.core import admins
from tesserad.core.clock import SystemClock
from tesserad.core.security.keystore import KeyStore
from tesserad.core.sessions import API_KEY, VALIDATE, Identity, Sessions
from tesserad.core.store.models import AuditEntry

from tests.helpers import daemon_config, manage, write_config
from tests.http.restapi import Api
from tests.http.test_token_api import enroll, error, ok, row
from tests.wired import RFC4226


def test_createtoken_prints_a_key_this_install_accepts(tmp_path: Path) -> None:
    data = daemon_config(tmp_path)
    config = write_config(tmp_path, data)
    assert manage("keys", "create", config=config).returncode == 0
    made = manage("api", "createtoken", "-r", "validate", "-d", "30", "-u", "radius-gw", config=config)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    keys = KeyStore(tmp_path / "data" / "keys").load()
    sessions = Sessions(keys.security, SystemClock(), 3600)
    assert sessions.verify(token) == Identity(VALIDATE, "radius-gw", "API", authtype=API_KEY)
    bad = manage("api", "createtoken", "-r", "user", config=config)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def check(api: Api, headers: dict[str, str] | None = None, user: str = "alice") -> tuple[int, dict]:
    return api.call("POST", "/validate/check", params={"user": user, "pass": RFC4226[0]}, headers=headers)


@pytest.mark.policy_action("authorization", "api_key_required")
def test_api_key_required_admits_only_validate_keys(people: Api) -> None:
    api = people
    serial, _ = enroll(api, api.admin(), user="alice")
    api.policy("keys", scope="authorization", action="api_key_required", realm="example")
    key = api.rest.sessions.issue_api_key(VALIDATE, "gw", "API", 1)
    refused = [({}, 4033), ({"Authorization": api.admin()}, 4306), ({"Authorization": "not-a-jwt"}, 4304),
               ({"Authorization": api.user("bob")}, 4306)]
    for headers, code in refused:
        assert error(check(api, headers)) == (401, code), headers
    token = row(api, serial)
    assert token is not None and token.count == 0  # the engine never ran
    with api.core.database.session() as session:
        audited = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "POST /validate/check", AuditEntry.success.is_(False)))
    assert audited == len(refused)
    status, body = check(api, {"PI-Authorization": key})
    assert status == 200 and body["result"]["authentication"] == "ACCEPT"
    # the policy is bound to realm example: users of other realms need no key
    status, body = check(api, user="dave@sales")
    assert status == 200 and body["result"]["authentication"] == "REJECT"


def test_a_validate_key_opens_no_management_endpoint(api: Api) -> None:
    key = api.rest.sessions.issue_api_key(VALIDATE, "gw", "API", 1)
    assert error(api.call("GET", "/token/", key)) == (401, 4306)
    admin_key = api.rest.sessions.issue_api_key("admin", "script", "API", 1)
    assert ok(api.call("GET", "/token/", admin_key))["count"] == 0  # not bound to an admin account


def test_a_deleted_admins_token_stops_working(api: Api) -> None:
    token = api.admin("temp")
    assert ok(api.call("GET", "/token/", token))["count"] == 0
    with api.core.database.session() as session:
        admins.delete(session, "temp")
        session.commit()
    status, body = api.call("GET", "/token/", token)
    assert (status, body["result"]["error"]["code"]) == (401, 4304)
    assert "no longer exists" in body["result"]["error"]["message"]
