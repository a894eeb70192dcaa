"""/tokengroup/ in memory: group definitions as privacyIDEA 3.8 shapes them, the admin rights
tokengroup_list/add/delete (system-wide: only admins bound to no realm) and tokengroups."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.restapi import Api
from tests.http.test_token_api import enroll, error, listed, ok


def groups(api: Api, token: str, name: str = "") -> dict[str, Any]:
    return ok(api.call("GET", f"/tokengroup/{name}", token))


def test_define_list_describe_and_delete_groups(api: Api) -> None:
    admin = api.admin()
    vpn = ok(api.call("POST", "/tokengroup/vpn", admin, {"description": "VPN users"}))
    mail = ok(api.call("POST", "/tokengroup/mail", admin))
    assert isinstance(vpn, int) and vpn != mail
    assert groups(api, admin) == {"mail": {"id": mail, "description": ""},
                                  "vpn": {"id": vpn, "description": "VPN users"}}
    # Saving again changes the description and keeps the id; without one it stays.
    assert ok(api.call("POST", "/tokengroup/vpn", admin, {"description": "remote access"})) == vpn
    assert ok(api.call("POST", "/tokengroup/vpn", admin)) == vpn
    assert groups(api, admin, "vpn") == {"vpn": {"id": vpn, "description": "remote access"}}
    assert groups(api, admin, "nothing") == {}
    assert ok(api.call("DELETE", "/tokengroup/mail", admin)) is True
    assert list(groups(api, admin)) == ["vpn"]
    assert error(api.call("DELETE", "/tokengroup/mail", admin)) == (404, 601)
    assert error(api.call("POST", "/tokengroup/vpn", admin, {"description": "x" * 256})) == (400, 905)
    assert groups(api, admin, "vpn")["vpn"]["description"] == "remote access"


def test_a_group_that_holds_tokens_is_not_deleted(api: Api) -> None:
    admin = api.admin()
    ok(api.call("POST", "/tokengroup/vpn", admin))
    serial, _ = enroll(api, admin)
    assert ok(api.call("POST", f"/token/group/{serial}/vpn", admin)) is True
    status, body = api.call("DELETE", "/tokengroup/vpn", admin)
    assert (status, body["result"]["error"]["code"]) == (400, 905)
    assert "still holds 1 token" in body["result"]["error"]["message"]
    assert listed(api, admin, serial=serial)["tokens"][0]["tokengroup"] == ["vpn"]
    assert ok(api.call("DELETE", f"/token/group/{serial}/vpn", admin)) is True
    assert ok(api.call("DELETE", "/tokengroup/vpn", admin)) is True
    assert groups(api, admin) == {}


@pytest.mark.policy_action("admin", "tokengroup_list")
@pytest.mark.policy_action("admin", "tokengroup_add")
@pytest.mark.policy_action("admin", "tokengroup_delete")
def test_each_group_right_opens_its_call_only(api: Api) -> None:
    admin, other = api.admin(), api.admin("other")
    ok(api.call("POST", "/tokengroup/vpn", admin))
    api.policy("others", scope="admin", action="tokenlist", adminuser="other")
    api.policy("root", scope="admin", action="tokenlist", adminuser="admin")
    for method, path in (("GET", "/tokengroup/"), ("POST", "/tokengroup/new"), ("DELETE", "/tokengroup/vpn")):
        assert error(api.call(method, path, other)) == (403, 303)
    api.policy("others", scope="admin", action="tokengroup_list", adminuser="other")
    assert list(groups(api, other)) == ["vpn"]
    assert error(api.call("POST", "/tokengroup/new", other)) == (403, 303)
    api.policy("others", scope="admin", action="tokengroup_list, tokengroup_add", adminuser="other")
    assert isinstance(ok(api.call("POST", "/tokengroup/new", other, {"description": "d"})), int)
    assert error(api.call("DELETE", "/tokengroup/new", other)) == (403, 303)
    api.policy("others", scope="admin", action="tokengroup_delete", adminuser="other")
    assert ok(api.call("DELETE", "/tokengroup/new", other)) is True
    assert error(api.call("GET", "/tokengroup/", other)) == (403, 303)
    api.policy("root", scope="admin", action="tokengroup_list", adminuser="admin")
    assert list(groups(api, admin)) == ["vpn"]
    # An admin bound to a realm does not reach groups, which belong to no realm.
    api.policy("root", scope="admin", action="tokengroup_list, tokengroup_add, tokengroup_delete",
               adminuser="admin", realm="example")
    for method, path in (("GET", "/tokengroup/"), ("POST", "/tokengroup/new"), ("DELETE", "/tokengroup/vpn")):
        assert error(api.call(method, path, admin)) == (403, 303)


@pytest.mark.policy_action("admin", "tokengroups")
def test_tokengroups_right_sets_the_groups_of_a_token(api: Api) -> None:
    admin, helper = api.admin(), api.admin("helper")
    ok(api.call("POST", "/tokengroup/vpn", admin))
    serial, _ = enroll(api, admin)
    api.policy("root", scope="admin", action="tokenlist, enrollHOTP, tokengroup_list", adminuser="admin")
    api.policy("helpers", scope="admin", action="tokenlist", adminuser="helper")
    assert error(api.call("POST", f"/token/group/{serial}/vpn", helper)) == (403, 303)
    assert error(api.call("POST", f"/token/group/{serial}", helper, body={"groups": ["vpn"]})) == (403, 303)
    assert listed(api, admin, serial=serial)["tokens"][0]["tokengroup"] == []
    api.policy("helpers", scope="admin", action="tokenlist, tokengroups", adminuser="helper")
    assert ok(api.call("POST", f"/token/group/{serial}/vpn", helper)) is True
    assert listed(api, admin, serial=serial)["tokens"][0]["tokengroup"] == ["vpn"]
    assert ok(api.call("DELETE", f"/token/group/{serial}/vpn", helper)) is True
    assert listed(api, admin, serial=serial)["tokens"][0]["tokengroup"] == []
