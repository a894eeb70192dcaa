"""/radiusserver/ in memory: definitions as privacyIDEA 3.8 shapes them (the secret
write-only and stored encrypted), test_request against a real UDP upstream, and the admin
rights radiusserver_read/_write (system-wide: only admins bound to no realm)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tesserad.core.store.models import RadiusServer

from tests.http.restapi import Api
from tests.http.test_token_api import error, ok
from tests.radius_upstream import Upstream, upstream

SECRET = "Rad-secret-93"


@pytest.fixture
def server() -> Iterator[Upstream]:
    yield from upstream(SECRET.encode(), {"carol": "Carol-pw-1"})


def definitions(api: Api, token: str) -> dict[str, Any]:
    return ok(api.call("GET", "/radiusserver/", token))


def test_define_list_update_and_delete(api: Api) -> None:
    admin = api.admin()
    rid = ok(api.call("POST", "/radiusserver/radius1", admin,
                      {"server": "192.0.2.7", "secret": SECRET, "description": "old OTP system"}))
    assert isinstance(rid, int)
    assert definitions(api, admin) == {"radius1": {"server": "192.0.2.7", "port": 1812, "description": "old OTP system",
                                                   "timeout": 5, "retries": 3}}
    with api.core.database.session() as session:
        stored = session.scalars(select(RadiusServer)).one().secret_enc
    assert SECRET.encode() not in stored
    # An update without a secret keeps the stored one.
    assert ok(api.call("POST", "/radiusserver/radius1", admin,
                       {"server": "192.0.2.8", "port": "1645", "timeout": "2", "retries": "0"})) == rid
    assert definitions(api, admin)["radius1"] == {"server": "192.0.2.8", "port": 1645, "description": "",
                                                  "timeout": 2, "retries": 0}
    with api.core.database.session() as session:
        assert session.scalars(select(RadiusServer)).one().secret_enc == stored
    assert SECRET not in str(api.call("GET", "/radiusserver/", admin)[1])
    assert ok(api.call("DELETE", "/radiusserver/radius1", admin)) is True
    assert definitions(api, admin) == {}
    assert error(api.call("DELETE", "/radiusserver/radius1", admin)) == (404, 601)


@pytest.mark.parametrize("params", [{"secret": SECRET}, {"server": "h"}, {"server": "h", "secret": "s", "port": "0"},
                                    {"server": "h", "secret": "s", "port": "x"},
                                    {"server": "h", "secret": "s", "timeout": "0"}])
def test_bad_definitions_are_refused(api: Api, params: dict[str, str]) -> None:
    admin = api.admin()
    assert error(api.call("POST", "/radiusserver/radius1", admin, params)) == (400, 905)
    assert definitions(api, admin) == {}


def test_test_request_asks_the_server(api: Api, server: Upstream) -> None:
    admin = api.admin()
    given = {"server": "127.0.0.1", "port": str(server.port), "timeout": "1", "retries": "0"}
    assert ok(api.call("POST", "/radiusserver/test_request", admin,
                       {**given, "secret": SECRET, "username": "carol", "password": "Carol-pw-1"})) is True
    assert ok(api.call("POST", "/radiusserver/test_request", admin,
                       {**given, "secret": SECRET, "username": "carol", "password": "wrong"})) is False
    ok(api.call("POST", "/radiusserver/radius1", admin, {**given, "secret": SECRET}))
    assert ok(api.call("POST", "/radiusserver/test_request", admin,
                       {"identifier": "radius1", "username": "carol", "password": "Carol-pw-1"})) is True
    # A wrong secret gets no reply that verifies: unavailable (503), not a "no".
    assert error(api.call("POST", "/radiusserver/test_request", admin,
                          {**given, "secret": "wrong", "username": "carol", "password": "Carol-pw-1"}))[0] == 503


@pytest.mark.policy_action("admin", "radiusserver_read")
@pytest.mark.policy_action("admin", "radiusserver_write")
def test_each_right_opens_its_calls_only(api: Api) -> None:
    admin, other = api.admin(), api.admin("other")
    ok(api.call("POST", "/radiusserver/radius1", admin, {"server": "192.0.2.7", "secret": SECRET}))
    api.policy("others", scope="admin", action="tokenlist", adminuser="other")
    api.policy("root", scope="admin", action="tokenlist", adminuser="admin")
    writes = (("POST", "/radiusserver/new", {"server": "h", "secret": "s"}), ("DELETE", "/radiusserver/radius1", {}),
              ("POST", "/radiusserver/test_request", {"identifier": "radius1", "username": "u"}))
    for method, path, params in (("GET", "/radiusserver/", {}), *writes):
        assert error(api.call(method, path, other, params)) == (403, 303)
    api.policy("others", scope="admin", action="radiusserver_read", adminuser="other")
    assert list(definitions(api, other)) == ["radius1"]
    for method, path, params in writes:
        assert error(api.call(method, path, other, params)) == (403, 303)
    api.policy("others", scope="admin", action="radiusserver_write", adminuser="other")
    assert isinstance(ok(api.call("POST", "/radiusserver/new", other, {"server": "h", "secret": "s"})), int)
    assert ok(api.call("DELETE", "/radiusserver/new", other)) is True
    assert error(api.call("GET", "/radiusserver/", other)) == (403, 303)
    # An admin bound to a realm does not reach definitions, which belong to no realm.
    api.policy("root", scope="admin", action="radiusserver_read, radiusserver_write", adminuser="admin",
               realm="example")
    for method, path, params in (("GET", "/radiusserver/", {}), *writes):
        assert error(api.call(method, path, admin, params)) == (403, 303)
