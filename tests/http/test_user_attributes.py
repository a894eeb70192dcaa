"""/user/attribute and /user/editable_attributes/ in memory: custom user attributes set,
read and deleted as the admin and user policies set_custom_user_attributes and
delete_custom_user_attributes allow, and merged into the user's info."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.restapi import Api
from tests.http.test_token_api import error, ok

ALICE = {"user": "alice", "realm": "example"}


def attributes(api: Api, token: str, **params: str) -> Any:
    return ok(api.call("GET", "/user/attribute", token, {**ALICE, **params}))


def set_attribute(api: Api, token: str, key: str, value: str, **who: str) -> tuple[int, Any]:
    return api.call("POST", "/user/attribute", token, {**(who or ALICE), "key": key, "value": value})


def listed_user(api: Api, token: str, login: str) -> dict[str, Any]:
    return next(u for u in ok(api.call("GET", "/user/", token, {"realm": "example"})) if u["username"] == login)


def test_without_a_policy_nothing_is_set_or_deleted(api: Api) -> None:
    admin = api.admin()
    assert error(set_attribute(api, admin, "department", "sales")) == (403, 303)
    assert error(api.call("DELETE", "/user/attribute/department/alice/example", admin)) == (403, 303)
    assert attributes(api, admin) == {}
    assert ok(api.call("GET", "/user/editable_attributes/", admin, ALICE)) == {"delete": [], "set": {}}


@pytest.mark.policy_action("admin", "set_custom_user_attributes")
@pytest.mark.policy_action("admin", "delete_custom_user_attributes")
def test_admin_sets_and_deletes_what_the_policies_allow(api: Api) -> None:
    admin = api.admin()
    api.policy("attrs", scope="admin", action="userlist, set_custom_user_attributes=:department: sales finance "
               ":city: *, delete_custom_user_attributes=department")
    api.policy("more", scope="admin", action="set_custom_user_attributes=:*: 1 2")
    assert ok(api.call("GET", "/user/editable_attributes/", admin, ALICE)) == {
        "delete": ["department"], "set": {"department": ["sales", "finance"], "city": ["*"], "*": ["1", "2"]}}
    first = ok(set_attribute(api, admin, "department", "finance"))
    assert isinstance(first, int)
    assert ok(set_attribute(api, admin, "department", "sales")) == first  # replaced, same row
    assert ok(set_attribute(api, admin, "city", "Oxford"))
    assert ok(set_attribute(api, admin, "level", "2"))
    for key, value in (("department", "hr"), ("level", "3"), ("secret", "x")):
        status, body = set_attribute(api, admin, key, value)
        assert (status, body["result"]["error"]["code"]) == (403, 303)
        assert f"custom user attribute {key}!" in body["result"]["error"]["message"]
    assert attributes(api, admin) == {"city": "Oxford", "department": "sales", "level": "2"}
    assert attributes(api, admin, key="department") == "sales"
    assert attributes(api, admin, key="nothing") is None
    # Merged into the user listing (store attributes stay, custom ones are added).
    alice = listed_user(api, admin, "alice")
    assert (alice["department"], alice["city"], alice["givenname"]) == ("sales", "Oxford", "Alice")
    assert "department" not in listed_user(api, admin, "bob")
    assert error(api.call("DELETE", "/user/attribute/city/alice/example", admin)) == (403, 303)
    assert ok(api.call("DELETE", "/user/attribute/department/alice/example", admin)) == 1
    assert ok(api.call("DELETE", "/user/attribute/department/alice/example", admin)) == 0
    assert attributes(api, admin) == {"city": "Oxford", "level": "2"}
    api.policy("attrs", scope="admin", action="userlist, delete_custom_user_attributes=*")
    assert ok(api.call("DELETE", "/user/attribute/city/alice/example", admin)) == 1
    # An admin whose policies are bound to another realm sets nothing here.
    api.policy("more", scope="admin", action="set_custom_user_attributes=:*: *", realm="elsewhere")
    assert error(set_attribute(api, admin, "level", "1")) == (403, 303)
    assert attributes(api, admin) == {"level": "2"}


@pytest.mark.policy_action("user", "set_custom_user_attributes")
@pytest.mark.policy_action("user", "delete_custom_user_attributes")
def test_a_user_edits_only_their_own_attributes(api: Api) -> None:
    alice, admin = api.user("alice"), api.admin()
    assert error(set_attribute(api, alice, "phonebook", "yes")) == (403, 303)
    api.policy("self", scope="user", action="userlist, set_custom_user_attributes=:phonebook: yes no, "
               "delete_custom_user_attributes=phonebook")
    assert ok(api.call("GET", "/user/editable_attributes/", alice)) == {
        "delete": ["phonebook"], "set": {"phonebook": ["yes", "no"]}}
    # Whoever the parameters name, the user acts on themselves.
    assert ok(set_attribute(api, alice, "phonebook", "yes", user="bob", realm="example"))
    assert error(set_attribute(api, alice, "phonebook", "maybe")) == (403, 303)
    assert ok(api.call("GET", "/user/attribute", alice, {"user": "bob"})) == {"phonebook": "yes"}
    assert attributes(api, admin, user="bob") == {}
    assert ok(api.call("GET", "/user/", alice))[0]["phonebook"] == "yes"
    assert ok(api.call("DELETE", "/user/attribute/phonebook/bob/example", alice)) == 1
    assert attributes(api, admin) == {}


def test_custom_attributes_count_in_userinfo_conditions(api: Api) -> None:
    """privacyIDEA merges custom attributes into the user info that policy conditions read."""
    admin, alice = api.admin(), api.user("alice")
    api.policy("attrs", scope="admin", action="set_custom_user_attributes=:group: helpdesk")
    api.policy("users", scope="user", action="enable")
    api.policy("helpdesk", scope="user", action="auditlog",
               conditions=[["userinfo", "group", "equals", "helpdesk", True]])
    assert error(api.call("GET", "/audit/", alice)) == (403, 303)
    ok(set_attribute(api, admin, "group", "helpdesk"))
    assert "count" in ok(api.call("GET", "/audit/", alice))
