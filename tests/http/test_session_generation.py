"""A login token (JWT) ends when its account changes: a local admin's password change,
deactivation or delete-and-re-create, a realm user leaving the store or coming back under a
new id. API keys are bound to no account and keep working (security issue 27)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tesserad.core import admins
from tesserad.core.sessions import ADMIN, Identity
from tesserad.core.store.models import Admin

from tests.http.people import ADMIN_PASSWORD, PASSWORDS
from tests.http.restapi import Api

NEW_PASSWORD = "Adm1n-changed"


def login(api: Api, username: str, password: str, realm: str = "") -> str:
    status, body = api.call("POST", "/auth", params={"username": username, "password": password, "realm": realm})
    assert status == 200, body
    return body["result"]["value"]["token"]


def listing(api: Api, token: str) -> tuple[int, Any]:
    return api.call("GET", "/token/", token)


def store(api: Api, change: Any) -> None:
    with api.core.database.session() as session:
        change(session)
        session.commit()


def ended(api: Api, token: str) -> bool:
    status, body = listing(api, token)
    if status == 200:
        return False
    assert (status, body["result"]["error"]["code"]) == (401, 4304), body
    return True


def test_a_password_change_ends_earlier_admin_sessions(people: Api) -> None:
    before = login(people, "root", ADMIN_PASSWORD)
    assert not ended(people, before)
    store(people, lambda s: admins.set_password(s, people.core.tokens.hasher, "root", NEW_PASSWORD))
    assert ended(people, before)
    assert not ended(people, login(people, "root", NEW_PASSWORD))


def test_deactivating_an_admin_ends_its_sessions(people: Api) -> None:
    token = login(people, "root", ADMIN_PASSWORD)
    store(people, lambda s: s.query(Admin).filter_by(username="root").update({"active": False}))
    assert ended(people, token)


def test_a_deleted_and_re_created_admin_does_not_inherit_old_sessions(people: Api) -> None:
    token = login(people, "root", ADMIN_PASSWORD)
    store(people, lambda s: admins.delete(s, "root"))
    status, body = listing(people, token)
    assert status == 401 and "no longer exists" in body["result"]["error"]["message"]
    store(people, lambda s: admins.add(s, people.core.tokens.hasher, "root", ADMIN_PASSWORD))
    assert ended(people, token)  # same name, same password: another record
    assert not ended(people, login(people, "root", ADMIN_PASSWORD))


def test_a_realm_login_ends_when_its_store_entry_is_gone_or_replaced(people: Api, tmp_path: Path) -> None:
    user = login(people, "dave", PASSWORDS["dave"], "sales")
    superuser = login(people, "sam", PASSWORDS["sam"], "staff")
    assert not ended(people, user) and not ended(people, superuser)
    sales, staff = tmp_path / "sales", tmp_path / "staff"
    sales.write_text(sales.read_text().replace(":2000:2000:", ":2500:2500:"))  # dave re-created, new uid
    staff.write_text("")  # sam deleted
    assert ended(people, user) and ended(people, superuser)


def test_a_token_forged_without_the_generation_is_refused(people: Api) -> None:
    assert ended(people, people.rest.sessions.issue(Identity(ADMIN, "root"), []))


def test_api_keys_keep_working(people: Api) -> None:
    key = people.rest.sessions.issue_api_key("admin", "script", "API", 1)
    store(people, lambda s: admins.set_password(s, people.core.tokens.hasher, "root", NEW_PASSWORD))
    assert not ended(people, key)
