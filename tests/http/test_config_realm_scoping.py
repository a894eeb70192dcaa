"""An admin whose policies are limited to one realm can neither read nor change another
realm's realms, resolvers, users or audit entries through the configuration endpoints;
a superadmin (policy without realms) still can (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tesserad.core.store.models import AuditEntry

from tests.http.restapi import Api
from tests.http.test_config_api import error, ok, raw

RIGHTS = ("resolverread, resolverwrite, resolverdelete, userlist, adduser, updateuser, deleteuser, "
          "auditlog, auditlog_download")


@pytest.fixture
def setup(api: Api, tmp_path: Path) -> Api:
    """Realm ``example`` (files: alice, bob, carol) and realm ``staff`` (more: dave); admin
    ``helpdesk`` holds every right, but only in ``example``; ``admin`` holds them everywhere."""
    staff = tmp_path / "staff"
    staff.write_text("dave:x:2000:2000:Dave Null,,,:/home/dave:/bin/sh\n")
    with api.core.database.session() as session:
        api.core.directory.save_resolver(session, "more", "passwdresolver", {"fileName": str(staff)})
        api.core.directory.save_realm(session, "staff", [("more", 1)])
        session.commit()
    api.policy("helpdesk", scope="admin", adminuser="helpdesk", realm="example", action=RIGHTS)
    api.policy("superadmin", scope="admin", adminuser="admin", action=RIGHTS)
    api.core.check("wrong", user="alice")
    api.core.check("wrong", user="dave", realm="staff")
    return api


def test_realms_and_default_realm(setup: Api) -> None:
    api, helpdesk = setup, setup.admin("helpdesk")
    assert list(ok(api.call("GET", "/realm/", helpdesk))) == ["example"]
    assert list(ok(api.call("GET", "/realm/", api.admin()))) == ["example", "staff"]
    error(api.call("POST", "/realm/staff", helpdesk, {"resolvers": "files"}), 403, 303, "resolverwrite is not allowed")
    error(api.call("DELETE", "/realm/staff", helpdesk), 403, 303, "resolverdelete is not allowed")
    error(api.call("POST", "/defaultrealm/staff", helpdesk), 403, 303, "resolverwrite is not allowed")
    ok(api.call("POST", "/defaultrealm/staff", api.admin()))
    assert ok(api.call("GET", "/defaultrealm", helpdesk)) == {}
    error(api.call("DELETE", "/defaultrealm", helpdesk), 403, 303, "resolverdelete is not allowed")
    realms = ok(api.call("GET", "/realm/", api.admin()))
    assert realms["staff"]["resolver"] == [{"name": "more", "type": "passwdresolver", "priority": 1}]
    assert realms["staff"]["default"] is True


def test_resolvers(setup: Api, tmp_path: Path) -> None:
    api, helpdesk = setup, setup.admin("helpdesk")
    assert list(ok(api.call("GET", "/resolver/", helpdesk))) == ["files"]
    assert ok(api.call("GET", "/resolver/more", helpdesk)) == {}
    error(api.call("POST", "/resolver/more", helpdesk, {"fileName": "/etc/passwd"}), 403, 303,
          "resolverwrite is not allowed")
    error(api.call("POST", "/resolver/test", helpdesk, {"type": "passwdresolver", "resolver": "more"}), 403, 303,
          "resolverwrite is not allowed")
    # A new resolver is in no realm yet: only an admin whose right is bound to no realm may make it.
    error(api.call("POST", "/resolver/fresh", helpdesk, {"type": "passwdresolver"}), 403, 303,
          "resolverwrite is not allowed")
    error(api.call("DELETE", "/resolver/more", helpdesk), 403, 303, "resolverdelete is not allowed")
    assert ok(api.call("GET", "/resolver/more", api.admin()))["more"]["data"]["fileName"] == str(tmp_path / "staff")
    assert set(ok(api.call("GET", "/resolver/", api.admin()))) == {"files", "more"}
    # Its own realm's resolver it may change.
    assert ok(api.call("POST", "/resolver/files", helpdesk, {"fileName": str(tmp_path / "passwd")})) > 0


def test_users(setup: Api) -> None:
    api, helpdesk = setup, setup.admin("helpdesk")
    assert [u["username"] for u in ok(api.call("GET", "/user/", helpdesk))] == ["alice", "bob", "carol"]
    assert [u["username"] for u in ok(api.call("GET", "/user/", helpdesk, {"username": "dave"}))] == []
    error(api.call("GET", "/user/", helpdesk, {"realm": "staff"}), 403, 303, "userlist is not allowed")
    error(api.call("POST", "/user/", helpdesk, {"user": "eve", "resolver": "more"}), 403, 303, "adduser is not allowed")
    error(api.call("PUT", "/user/", helpdesk, {"user": "dave", "resolver": "more", "email": "x@y.z"}), 403, 303,
          "updateuser is not allowed")
    error(api.call("DELETE", "/user/more/dave", helpdesk), 403, 303, "deleteuser is not allowed")
    assert [u["username"] for u in ok(api.call("GET", "/user/", api.admin(), {"realm": "staff"}))] == ["dave"]


def test_audit(setup: Api) -> None:
    api, helpdesk = setup, setup.admin("helpdesk")
    entries = ok(api.call("GET", "/audit/", helpdesk, {"action": "*validate*"}))["auditdata"]
    assert [e["user"] for e in entries] == ["alice"]
    assert ok(api.call("GET", "/audit/", helpdesk, {"realm": "staff"}))["count"] == 0
    assert ok(api.call("GET", "/audit/", helpdesk, {"user": "dave"}))["count"] == 0
    status, _, content = raw(api, "/audit/all.csv?action=*validate*", helpdesk)
    assert status == 200 and ",dave," not in content.decode() and ",alice," in content.decode()
    everything = ok(api.call("GET", "/audit/", api.admin(), {"action": "*validate*", "sortorder": "asc"}))
    assert [e["user"] for e in everything["auditdata"]] == ["alice", "dave"]


def test_refusals_are_audited_and_change_nothing(setup: Api) -> None:
    api, helpdesk = setup, setup.admin("helpdesk")
    before = ok(api.call("GET", "/realm/", api.admin()))
    error(api.call("DELETE", "/realm/staff", helpdesk), 403, 303, "resolverdelete is not allowed")
    assert ok(api.call("GET", "/realm/", api.admin())) == before
    with api.core.database.session() as session:
        refused = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "DELETE /realm/<realm>", AuditEntry.success.is_(False),
            AuditEntry.administrator == "helpdesk"))
    assert refused == 1
