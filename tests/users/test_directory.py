"""The directory: realms and resolvers as configured, user resolution (spec §2.10), secrets at
rest, and change propagation between processes through the ``users`` stamp."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select

from tesserad.core.clock import FixedClock, utc_datetime
from tesserad.core.security.keyfile import KeyFileSecurityModule
from tesserad.core.stamps import DEFAULT_INTERVAL
from tesserad.core.store import Database
from tesserad.core.store.models import CustomUserAttribute, Realm, ResolverConfig, Token, TokenOwner
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.users.base import ResolverError, User, UserError
from tesserad.core.users.directory import Directory
from tesserad.core.users.passwd import PasswdResolver
from tesserad.core.users.snapshot import CENSORED

from tests.users.conftest import PASSWD
from tests.users.test_sql import MAP
from tests.users.test_sql import users as user_table

HELLO = ("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLi"
         "BFdcbYEdFCoEOfaS35inz1")


def setup_realms(db: Database, directory: Directory, passwd_file: Path) -> None:
    """realm1 (the default) and realm2, each with the flat file."""
    with db.session() as s:
        directory.save_resolver(s, "files", "passwdresolver", {"fileName": str(passwd_file)})
        directory.save_realm(s, "realm1", [("files", 1)])
        directory.save_realm(s, "Realm2", [("files", None)])
        directory.set_default_realm(s, "realm1")
        s.commit()


def set_split(db: Database, directory: Directory, value: bool) -> None:
    with db.session() as s:
        directory._sysconfig.set(s, "splitAtSign", value)
        s.commit()


# The table of spec §2.10: (user, realm parameter, result with splitAtSign, result without).
ERROR = None
SPLIT_TABLE = [
    ("user", None, ("user", "realm1"), ("user", "realm1")),
    ("user", "realm1", ("user", "realm1"), ("user", "realm1")),
    ("user", "unknown", ERROR, ERROR),
    ("user@realm1", None, ("user", "realm1"), ("user@realm1", "realm1")),
    ("user@realm1", "realm1", ("user", "realm1"), ("user@realm1", "realm1")),
    ("user@realm1", "realm2", ("user", "realm2"), ("user@realm1", "realm2")),
    ("user@realm2", "realm1", ("user", "realm1"), ("user@realm2", "realm1")),
    ("user@realm1", "unknown", ERROR, ERROR),
    ("user@unknown", None, ("user@unknown", "realm1"), ("user@unknown", "realm1")),
    ("user@unknown", "realm1", ("user@unknown", "realm1"), ("user@unknown", "realm1")),
    ("user@unknown", "unknown", ERROR, ERROR),
]


@pytest.mark.parametrize("split", [True, False], ids=["splitAtSign", "noSplit"])
def test_split_user_table(db: Database, directory: Directory, passwd_file: Path, split: bool) -> None:
    setup_realms(db, directory, passwd_file)
    set_split(db, directory, split)
    # user@realm2 without realm parameter, the one row the spec table leaves implicit.
    extra = [("user@realm2", None, ("user", "realm2"), ("user@realm2", "realm1"))]
    with db.session() as s:
        for login, realm, with_split, without in SPLIT_TABLE + extra:
            expected = with_split if split else without
            if expected is ERROR:
                with pytest.raises(UserError, match="realm unknown does not exist"):
                    directory.split_user(s, login, realm)
            else:
                assert directory.split_user(s, login, realm) == expected, (login, realm)


def test_split_user_details(db: Database, directory: Directory, passwd_file: Path) -> None:
    setup_realms(db, directory, passwd_file)
    with db.session() as s:
        assert directory.split_user(s, "user@REALM2", None) == ("user", "realm2")  # realms are case-insensitive
        assert directory.split_user(s, "user", "REALM2") == ("user", "realm2")
        assert directory.split_user(s, "a@b.org@realm2", None) == ("a@b.org", "realm2")  # the last @ splits
        assert directory.split_user(s, "a@b.org", None) == ("a@b.org", "realm1")
        assert directory.split_user(s, "user", "") == ("user", "realm1")  # an empty realm is no realm
        directory.set_default_realm(s, None)
        s.commit()
    with db.session() as s:
        assert directory.default_realm(s) is None
        assert directory.split_user(s, "user", None) == ("user", "")
        assert directory.resolve(s, "alice", None) == User("alice", "")


def test_default_realm(db: Database, directory: Directory, passwd_file: Path) -> None:
    with db.session() as s:
        directory.save_resolver(s, "files", "passwdresolver", {"fileName": str(passwd_file)})
        directory.save_realm(s, "First", [("files", 1)])
        s.commit()
    with db.session() as s:
        assert directory.default_realm(s) == "first"  # the only realm becomes the default
        directory.save_realm(s, "second", [("files", 1)])
        s.commit()
    with db.session() as s:
        assert directory.default_realm(s) == "first"
        directory.set_default_realm(s, "SECOND")
        s.commit()
    with db.session() as s:
        assert directory.default_realm(s) == "second"
        realms = directory.list_realms(s)
        assert [name for name, r in realms.items() if r["default"]] == ["second"]
        assert realms["first"]["resolver"] == [{"name": "files", "type": "passwdresolver", "priority": 1}]
        assert directory.resolve(s, "alice", None) == User("alice", "second", "files", "1000")
        with pytest.raises(UserError, match="realm nope does not exist"):
            directory.set_default_realm(s, "nope")
        assert sum(r.is_default for r in s.scalars(select(Realm))) == 1


def test_resolver_priority_within_a_realm(db: Database, directory: Directory, tmp_path: Path,
                                          passwd_file: Path) -> None:
    admins = tmp_path / "admins"
    admins.write_text("alice:x:5000:5000:Alice Admin:/:/bin/sh\n")
    with db.session() as s:
        directory.save_resolver(s, "users", "passwdresolver", {"fileName": str(passwd_file)})
        directory.save_resolver(s, "admins", "passwdresolver", {"fileName": str(admins)})
        directory.save_realm(s, "ad", [("users", 2), ("admins", 1)])
        directory.save_realm(s, "flipped", [("users", 1), ("admins", 2)])
        directory.save_realm(s, "unranked", [("admins", None), ("users", 10)])
        s.commit()
    with db.session() as s:
        assert directory.find_user(s, "alice", "ad") == User("alice", "ad", "admins", "5000")
        assert directory.find_user(s, "alice", "flipped") == User("alice", "flipped", "users", "1000")
        assert directory.find_user(s, "alice", "unranked") == User("alice", "unranked", "users", "1000")
        assert directory.find_user(s, "bob", "ad") == User("bob", "ad", "users", "1001")  # falls through
        assert directory.find_user(s, "zed", "ad") == User("zed", "ad")
        assert not directory.find_user(s, "zed", "ad").exists
        assert [r["name"] for r in directory.list_realms(s)["unranked"]["resolver"]] == ["users", "admins"]
        # Re-saving replaces the resolver list and the priorities.
        directory.save_realm(s, "ad", [("users", 5), ("admins", 7)])
        s.commit()
    with db.session() as s:
        assert directory.find_user(s, "alice", "ad").resolver == "users"


def test_realm_validation(db: Database, directory: Directory, passwd_file: Path) -> None:
    setup_realms(db, directory, passwd_file)
    with db.session() as s:
        with pytest.raises(ResolverError, match="resolver nope does not exist"):
            directory.save_realm(s, "r3", [("files", 1), ("nope", 2)])
        with pytest.raises(ResolverError, match="1..999"):
            directory.save_realm(s, "r3", [("files", 1000)])
        with pytest.raises(ResolverError, match="only once"):
            directory.save_realm(s, "r3", [("files", 1), ("files", 2)])
        with pytest.raises(ResolverError, match="invalid"):
            directory.save_realm(s, "bad realm", [("files", 1)])
        with pytest.raises(UserError, match="does not exist"):
            directory.delete_realm(s, "r3")


def test_user_lookups(db: Database, directory: Directory, passwd_file: Path) -> None:
    setup_realms(db, directory, passwd_file)
    with db.session() as s:
        alice = directory.resolve(s, "alice@realm2", None)
        assert alice == User("alice", "realm2", "files", "1000")
        info = directory.user_info(s, alice)
        assert info["username"] == "alice" and info["userid"] == "1000"
        assert info["email"] == "alice@example.com" and info["givenname"] == "Alice"
        assert directory.user_info(s, User("zed", "realm1")) == {}
        bob = directory.resolve(s, "bob", None)
        assert set(directory.user_info(s, bob)) == {"username", "userid", "givenname", "surname", "email",
                                                    "phone", "mobile", "description"}
        assert directory.user_from_owner(s, "REALM2", "files", "1001") == User("bob", "realm2", "files", "1001")
        assert directory.user_from_owner(s, "realm2", "files", "4711").login == ""
        assert directory.realm_id(s, "Realm2") is not None and directory.realm_id(s, "x") is None


def test_custom_attributes_are_merged_into_user_info(db: Database, directory: Directory,
                                                     passwd_file: Path) -> None:
    setup_realms(db, directory, passwd_file)
    with db.session() as s:
        realm_id = directory.realm_id(s, "realm1")
        assert realm_id is not None
        s.add_all([CustomUserAttribute(realm_id=realm_id, resolver="files", user_id="1000", key="email",
                                       value="override@example.com"),
                   CustomUserAttribute(realm_id=realm_id, resolver="files", user_id="1000", key="department",
                                       value="finance")])
        s.commit()
    with db.session() as s:
        info = directory.user_info(s, directory.resolve(s, "alice", None))
        assert info["email"] == "override@example.com" and info["department"] == "finance"
        assert directory.user_info(s, directory.resolve(s, "alice", "realm2"))["email"] == "alice@example.com"


def test_check_password_through_the_directory(db: Database, directory: Directory, tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text(f"hello:{HELLO}:2000:2000:Hello:/:/bin/sh\n")
    with db.session() as s:
        directory.save_resolver(s, "pw", "passwdresolver", {"fileName": str(path)})
        directory.save_realm(s, "pw", [("pw", 1)])
        s.commit()
    with db.session() as s:
        hello = directory.resolve(s, "hello", None)
        assert hello.exists
        assert directory.check_password(s, hello, "Hello world!")
        assert not directory.check_password(s, hello, "hello world!")
        assert not directory.check_password(s, User("nobody", "pw"), "Hello world!")
        assert not directory.check_password(s, User("hello", "pw", "deleted", "2000"), "Hello world!")


def test_passwd_edits_apply_without_restart(db: Database, directory: Directory, passwd_file: Path) -> None:
    setup_realms(db, directory, passwd_file)
    with db.session() as s:
        assert not directory.resolve(s, "dave", None).exists
    passwd_file.write_text(PASSWD.replace("alice:", "alicia:") + "dave:x:1003:1003:Dave:/:/bin/sh\n")
    with db.session() as s:
        assert directory.resolve(s, "dave", None).uid == "1003"
        # the token owner (files, 1000) now logs in as alicia
        assert directory.user_from_owner(s, "realm1", "files", "1000").login == "alicia"
        assert directory.resolve(s, "alicia", None).uid == "1000"


# ---- resolver configuration ------------------------------------------------------------------

def sql_user_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = create_engine(url)
    user_table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(user_table).values(login="sqluser", given="Sequel", sur="User", mail="s@example.com",
                                               active=1))
        conn.execute(insert(user_table).values(login="alice", given="Alice", sur="Sql", active=1))
    engine.dispose()
    return url


def test_resolver_passwords_are_encrypted_at_rest_and_masked(db: Database, directory: Directory,
                                                             security: KeyFileSecurityModule,
                                                             tmp_path: Path) -> None:
    url = sql_user_db(tmp_path)
    secret = "S3cret-DB-pw"
    with db.session() as s:
        directory.save_resolver(s, "sql", "sqlresolver", {
            "Driver": "sqlite", "Database": str(tmp_path / "app.db"), "Password": secret,
            "Table": "app_users", "Map": MAP, "Editable": True})
        s.commit()
    with db.session() as s:
        rows = {r.key: r for r in s.scalars(select(ResolverConfig))}
        assert rows["Password"].type == "password"
        assert secret not in rows["Password"].value
        assert all(secret not in r.value for r in rows.values())
        sealed = base64.b64decode(rows["Password"].value)
        assert security.decrypt(sealed, context=b"resolver:sql:Password") == secret.encode()
        assert json.loads(rows["Map"].value) == MAP
        assert rows["Editable"].value == "1"

        listed = directory.list_resolvers(s)["sql"]
        assert listed["resolvername"] == "sql" and listed["type"] == "sqlresolver"
        assert listed["data"]["Password"] == CENSORED
        assert set(listed["censor_keys"]) == {"Password", "URL"}
        assert secret not in json.dumps(directory.list_resolvers(s))
        assert directory.list_resolvers(s, rtype="passwdresolver") == {}
        assert list(directory.list_resolvers(s, editable=True)) == ["sql"]
        assert secret not in repr(directory._snapshot(s))

        # An update without the password, or with it censored, keeps the stored one.
        directory.save_resolver(s, "sql", "sqlresolver", {"Password": CENSORED, "Limit": 7})
        directory.save_resolver(s, "sql", "sqlresolver", {"Where": "active == 1"})
        s.commit()
    with db.session() as s:
        resolver = directory.resolver(s, "sql")
        assert resolver.config["Password"] == secret and resolver.config["Limit"] == 7
        assert resolver.config["Where"] == "active == 1"
        assert resolver.uid_for("sqluser") is not None
        assert directory.test_resolver("sqlresolver", {"URL": url, "Table": "app_users", "Map": MAP}) == (
            True, "Resolver config seems OK. 2 Users found.")


def test_resolver_instances_are_cached_and_rebuilt_on_change(db: Database, directory: Directory,
                                                            passwd_file: Path, tmp_path: Path) -> None:
    setup_realms(db, directory, passwd_file)
    other = tmp_path / "other"
    other.write_text("zed:x:9:9:Zed:/:/bin/sh\n")
    with db.session() as s:
        first = directory.resolver(s, "files")
        assert directory.resolver(s, "files") is first
        directory.save_realm(s, "realm3", [("files", 3)])  # a realm change keeps the instance
        s.commit()
    with db.session() as s:
        assert directory.resolver(s, "files") is first
        directory.save_resolver(s, "files", "passwdresolver", {"fileName": str(other)})
        s.commit()
    with db.session() as s:
        second = directory.resolver(s, "files")
        assert second is not first and isinstance(second, PasswdResolver)
        assert directory.resolve(s, "zed", None).uid == "9"
        with pytest.raises(ResolverError, match="resolver nope does not exist"):
            directory.resolver(s, "nope")


def test_save_resolver_validation(db: Database, directory: Directory, passwd_file: Path) -> None:
    with db.session() as s:
        with pytest.raises(ResolverError, match="has no setting filename"):
            directory.save_resolver(s, "f", "passwdresolver", {"filename": "/etc/passwd"})
        with pytest.raises(ResolverError, match="unknown resolver type"):
            directory.save_resolver(s, "f", "nosuchresolver", {})
        with pytest.raises(ResolverError, match="name 'a b' is invalid"):
            directory.save_resolver(s, "a b", "passwdresolver", {})
        with pytest.raises(ResolverError, match="missing setting Map"):
            directory.save_resolver(s, "sql", "sqlresolver", {"URL": "sqlite://", "Table": "t"})
        with pytest.raises(ResolverError, match="userid are mandatory"):
            directory.save_resolver(s, "sql", "sqlresolver", {"URL": "sqlite://", "Table": "t",
                                                              "Map": {"username": "u"}})
        with pytest.raises(ResolverError, match="Limit: expected an integer"):
            directory.save_resolver(s, "sql", "sqlresolver", {"URL": "sqlite://", "Table": "t",
                                                              "Map": MAP, "Limit": "many"})
        with pytest.raises(ResolverError, match="no stored value to keep"):
            directory.save_resolver(s, "sql", "sqlresolver", {"URL": CENSORED, "Table": "t", "Map": MAP})
        directory.save_resolver(s, "f", "passwdresolver", {"fileName": str(passwd_file)})
        with pytest.raises(ResolverError, match="type cannot change"):
            directory.save_resolver(s, "f", "sqlresolver", {"URL": "sqlite://", "Table": "t", "Map": MAP})
        s.commit()
    assert directory.test_resolver("passwdresolver", {"fileName": "/nonexistent"})[0] is False
    assert directory.test_resolver("passwdresolver", {"bogus": "1"}) == (
        False, "resolver type passwdresolver has no setting bogus")


def test_delete_resolver_refused_while_in_a_realm(db: Database, directory: Directory, passwd_file: Path) -> None:
    setup_realms(db, directory, passwd_file)
    with db.session() as s:
        with pytest.raises(ResolverError, match="still used in the realms realm1, realm2"):
            directory.delete_resolver(s, "files")
        directory.delete_realm(s, "realm2")
        directory.save_realm(s, "realm1", [])
        s.commit()
    with db.session() as s:
        directory.delete_resolver(s, "files")
        s.commit()
    with db.session() as s:
        assert directory.list_resolvers(s) == {}
        assert s.scalars(select(ResolverConfig)).all() == []
        with pytest.raises(ResolverError, match="does not exist"):
            directory.delete_resolver(s, "files")


def test_delete_realm_refused_while_tokens_are_owned(db: Database, directory: Directory, passwd_file: Path,
                                                     clock: FixedClock) -> None:
    setup_realms(db, directory, passwd_file)
    with db.session() as s:
        realm_id = directory.realm_id(s, "realm2")
        token = Token(serial="HOTP0001", tokentype="hotp", created_at=utc_datetime(clock))
        token.owners.append(TokenOwner(realm_id=realm_id, resolver="files", user_id="1000"))
        s.add(token)
        s.commit()
    with db.session() as s:
        with pytest.raises(UserError, match="tokens are assigned"):
            directory.delete_realm(s, "Realm2")
        directory.delete_realm(s, "realm1")  # no tokens there
        s.commit()
    with db.session() as s:
        assert list(directory.list_realms(s)) == ["realm2"]
        assert directory.default_realm(s) is None  # the default realm went with it


def test_list_users_across_resolvers_with_paging(db: Database, directory: Directory, passwd_file: Path,
                                                 tmp_path: Path) -> None:
    sql_user_db(tmp_path)
    with db.session() as s:
        directory.save_resolver(s, "files", "passwdresolver", {"fileName": str(passwd_file)})
        directory.save_resolver(s, "sql", "sqlresolver", {"URL": f"sqlite:///{tmp_path / 'app.db'}",
                                                          "Table": "app_users", "Map": MAP})
        directory.save_realm(s, "mixed", [("sql", 2), ("files", 1)])
        s.commit()
    with db.session() as s:
        everyone = directory.list_users(s, "MIXED")
        assert [(u["resolver"], u["username"]) for u in everyone] == [
            ("files", "alice"), ("files", "bob"), ("files", "carol"), ("sql", "sqluser"), ("sql", "alice")]
        assert everyone[0]["email"] == "alice@example.com" and everyone[0]["editable"] is False
        assert everyone[3]["surname"] == "User" and everyone[3]["department"] == ""
        pages = [directory.list_users(s, "mixed", offset=o, limit=2) for o in (0, 2, 4)]
        assert [u["username"] for page in pages for u in page] == [u["username"] for u in everyone]
        assert [u["username"] for u in directory.list_users(s, "mixed", offset=3, limit=10)] == ["sqluser", "alice"]
        assert [u["username"] for u in directory.list_users(s, "mixed", {"username": "a*"})] == ["alice", "alice"]
        found = directory.list_users(s, "mixed", {"username": "a*", "resolver": "sql"})
        assert [u["resolver"] for u in found] == ["sql"]
        assert directory.list_users(s, "mixed", {"givenname": "seq*"})[0]["username"] == "sqluser"
        with pytest.raises(UserError):
            directory.list_users(s, "nope")


# ---- several processes -----------------------------------------------------------------------

def test_another_process_sees_changes_after_the_stamp_interval(db: Database, directory: Directory,
                                                             security: KeyFileSecurityModule,
                                                             clock: FixedClock, passwd_file: Path,
                                                             tmp_path: Path) -> None:
    setup_realms(db, directory, passwd_file)
    other = Directory(security, clock, SystemConfig(clock))  # a second process on the same database
    admins = tmp_path / "admins"
    admins.write_text("alice:x:5000:5000:Alice Admin:/:/bin/sh\n")
    with db.session() as s:
        assert other.find_user(s, "alice", "realm1").resolver == "files"
        assert set(other.list_realms(s)) == {"realm1", "realm2"}
    with db.session() as s:
        directory.save_resolver(s, "admins", "passwdresolver", {"fileName": str(admins)})
        directory.save_realm(s, "realm1", [("admins", 1), ("files", 2)])
        directory.save_realm(s, "realm3", [("files", 1)])
        s.commit()
    with db.session() as s:
        # This process applies its own change at once...
        assert directory.find_user(s, "alice", "realm1").resolver == "admins"
        # ...the other one within the stamp interval, without querying the store before it.
        assert other.find_user(s, "alice", "realm1").resolver == "files"
        with pytest.raises(UserError):
            other.split_user(s, "alice", "realm3")
    clock.advance(DEFAULT_INTERVAL + 0.001)
    with db.session() as s:
        assert other.find_user(s, "alice", "realm1") == User("alice", "realm1", "admins", "5000")
        assert other.split_user(s, "alice", "realm3") == ("alice", "realm3")
    other.close()


def test_rolled_back_change_is_not_kept_in_the_cache(db: Database, directory: Directory, passwd_file: Path) -> None:
    setup_realms(db, directory, passwd_file)
    with db.session() as s:
        directory.save_realm(s, "ephemeral", [("files", 1)])
        assert "ephemeral" in directory.list_realms(s)  # seen inside the transaction
        s.rollback()
    with db.session() as s:
        assert "ephemeral" not in directory.list_realms(s)
