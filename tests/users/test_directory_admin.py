"""The directory operations behind /realm, /resolver and /user: realms with added/failed
resolvers, updates without the type, resolver ids, multi-realm user lists and editing
users of an editable SQL resolver (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tesserad.core.store import Database
from tesserad.core.users.base import ResolverError, UserError
from tesserad.core.users.directory import Directory

from tests.users.test_sql import MAP, metadata


def test_set_realm_reports_added_and_failed(db: Database, directory: Directory, passwd_file: Path) -> None:
    with db.session() as s:
        directory.save_resolver(s, "files", "passwdresolver", {"fileName": str(passwd_file)})
        directory.save_resolver(s, "more", "passwdresolver", {"fileName": str(passwd_file)})
        added, failed = directory.set_realm(s, "Sales", ["files", "ghost", "more"], {"files": 2, "more": 1})
        s.commit()
        assert (added, failed) == (["files", "more"], ["ghost"])
        assert directory.list_realms(s)["sales"]["resolver"] == [
            {"name": "more", "type": "passwdresolver", "priority": 1},
            {"name": "files", "type": "passwdresolver", "priority": 2}]
        assert directory.realms_of_resolver(s, "files") == ["sales"]


def test_set_realm_refusals_change_nothing(db: Database, directory: Directory, passwd_file: Path) -> None:
    with db.session() as s:
        directory.save_resolver(s, "files", "passwdresolver", {"fileName": str(passwd_file)})
        with pytest.raises(ResolverError, match="priority.other is given, but other is not in resolvers"):
            directory.set_realm(s, "sales", ["files"], {"other": 1})
        with pytest.raises(ResolverError, match="priority of resolver files must be 1..999"):
            directory.set_realm(s, "sales", ["files"], {"files": 1000})
        with pytest.raises(ResolverError, match="realm name 'a/b' is invalid"):
            directory.set_realm(s, "a/b", ["files"])
        s.commit()
        assert directory.list_realms(s) == {}


def test_resolver_update_without_type_and_ids(db: Database, directory: Directory, passwd_file: Path,
                                              tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.write_text("zed:x:5000:5000::/:/bin/sh\n")
    with db.session() as s:
        first = directory.save_resolver(s, "files", "passwdresolver", {"fileName": str(passwd_file)})
        assert directory.save_resolver(s, "files", None, {"fileName": str(other)}) == first
        with pytest.raises(ResolverError, match="resolver fresh does not exist yet: give its type"):
            directory.save_resolver(s, "fresh", None, {})
        s.commit()
        assert directory.list_resolvers(s)["files"]["data"] == {"fileName": str(other)}
        assert directory.delete_resolver(s, "files") == first


def test_users_of_several_realms_each_once(db: Database, directory: Directory, passwd_file: Path) -> None:
    with db.session() as s:
        directory.save_resolver(s, "files", "passwdresolver", {"fileName": str(passwd_file)})
        directory.save_realm(s, "r1", [("files", 1)])
        directory.save_realm(s, "r2", [("files", 1)])
        s.commit()
        users = directory.users_of_realms(s, ["r1", "r2"], {"username": "*o*"})
        assert [u["username"] for u in users] == ["bob", "carol"]
        assert users[0]["resolver"] == "files" and users[0]["editable"] is False


def create_user_table(url: str) -> None:
    """The application user table of the SQL resolver tests, in the database at ``url``."""
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()


@pytest.fixture
def editable(db: Database, user_db_url: str, directory: Directory) -> Directory:
    """An editable SQL resolver over a user table in a second database of the suite's kind."""
    create_user_table(user_db_url)
    with db.session() as s:
        directory.save_resolver(s, "appdb", "sqlresolver", {"URL": user_db_url, "Table": "app_users",
                                                            "Map": json.dumps(MAP), "Editable": "1"})
        directory.save_realm(s, "apps", [("appdb", 1)])
        s.commit()
    return directory


def test_add_update_delete_users(db: Database, editable: Directory) -> None:
    directory = editable
    with db.session() as s:
        uid = directory.add_user(s, "appdb", {"username": "dora", "email": "dora@example.com",
                                              "password": "Secret-1"})
        user = directory.find_user(s, "dora", "apps")
        assert user.uid == uid and directory.check_password(s, user, "Secret-1")
        assert directory.update_user(s, "appdb", "dora", {"surname": "Explorer", "password": "Secret-2"}) == uid
        assert directory.user_info(s, user)["surname"] == "Explorer"
        assert directory.check_password(s, user, "Secret-2") and not directory.check_password(s, user, "Secret-1")
        with pytest.raises(ResolverError, match="attributes not in its Map: shoe_size"):
            directory.update_user(s, "appdb", "dora", {"shoe_size": "42"})
        with pytest.raises(UserError, match="resolver appdb has no user 'nobody'"):
            directory.update_user(s, "appdb", "nobody", {"surname": "X"})
        assert directory.delete_user(s, "appdb", "dora") == uid
        assert not directory.find_user(s, "dora", "apps").exists
        with pytest.raises(UserError, match="has no user 'dora'"):
            directory.delete_user(s, "appdb", "dora")


def test_flat_files_are_not_editable(db: Database, directory: Directory, passwd_file: Path) -> None:
    with db.session() as s:
        directory.save_resolver(s, "files", "passwdresolver", {"fileName": str(passwd_file)})
        with pytest.raises(ResolverError, match="resolver files is not editable"):
            directory.add_user(s, "files", {"username": "eve"})
        with pytest.raises(ResolverError, match="resolver files is not editable"):
            directory.delete_user(s, "files", "alice")
    assert "eve" not in passwd_file.read_text()
