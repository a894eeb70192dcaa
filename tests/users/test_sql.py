"""The SQL resolver against a real user table on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from contextlib import closing as _closing
from typing import Any

import bcrypt
import pytest
from passlib.hash import md5_crypt, sha256_crypt
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, make_url, select

from tesserad.core.errors import Unavailable
from tesserad.core.users.base import ResolverError, UserError, UserStoreUnavailable
from tesserad.core.users.hashes import HASH_TYPES, verify_password
from tesserad.core.users.sql import SQLResolver

from tests.helpers import free_port

MAP = {"userid": "id", "username": "login", "givenname": "given", "surname": "sur", "email": "mail",
       "phone": "phone", "mobile": "mobile", "password": "pw", "department": "dept"}

metadata = MetaData()
users = Table(
    "app_users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("login", String(64), unique=True, nullable=False),
    Column("given", String(64)), Column("sur", String(64)), Column("mail", String(128)),
    Column("phone", String(32)), Column("mobile", String(32)), Column("pw", String(255)),
    Column("dept", String(32)), Column("active", Integer, nullable=False, server_default="1"),
)

# Each password format the resolver verifies, with a fixed published vector where one exists.
SALT = b"\x00\x11\x22\x33\x44\x55\x66\x77"
FORMATS: dict[str, tuple[str, str]] = {
    "ssha": ("pw-ssha", "{SSHA}" + base64.b64encode(hashlib.sha1(b"pw-ssha" + SALT).digest() + SALT).decode()),
    "ssha256": ("pw-256", "{SSHA256}" + base64.b64encode(hashlib.sha256(b"pw-256" + SALT).digest() + SALT).decode()),
    "ssha512": ("pw-512", "{SSHA512}" + base64.b64encode(hashlib.sha512(b"pw-512" + SALT).digest() + SALT).decode()),
    "sha": ("password", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
    "otrs": ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    "phpass": ("test12345", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"),
    "drupal": ("Cookies1", "$S$Dr3Hm8Od9X0Ux/olZ.B8Uwh6./3E1l4nPfXebovKVvMB9zcmjkTn"),
    "sha512crypt": ("Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OT"
                    "LiBFdcbYEdFCoEOfaS35inz1"),
    "sha256crypt": ("pw-5", sha256_crypt.using(rounds=5000).hash("pw-5")),
    "md5crypt": ("pw-1", md5_crypt.hash("pw-1")),
    "bcrypt": ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    "bcrypt2y": ("pw-2y", bcrypt.hashpw(b"pw-2y", bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$")),
}


@pytest.fixture
def user_db(db_url: str) -> Iterator[str]:
    """The suite's fresh database with an application's user table in it."""
    engine = create_engine(db_url)
    metadata.create_all(engine)
    blank = {"given": None, "sur": None, "mail": None, "phone": None, "mobile": None, "pw": None,
             "dept": None, "active": 1}
    rows: list[dict[str, Any]] = [
        {"login": "alice", "given": "Alice", "sur": "Liddell", "mail": "alice@example.com",
         "phone": "+49 1", "mobile": "+49 2", "pw": FORMATS["ssha256"][1], "dept": "sales"},
        {"login": "bob", "given": "Bob", "sur": "Builder", "mail": "bob@example.org", "dept": "it"},
        {"login": "b_x", "given": "Underscore", "sur": "User", "mail": None, "dept": "it"},
        {"login": "ghost", "given": "Gone", "sur": "Away", "active": 0},
        *({"login": f"fmt-{name}", "pw": stored, "sur": "Format"} for name, (_, stored) in FORMATS.items()),
    ]
    with engine.begin() as conn:
        for row in rows:
            conn.execute(insert(users).values({**blank, **row}))
    engine.dispose()
    yield db_url


def make(url: str, **overrides: Any) -> SQLResolver:
    config: dict[str, Any] = {"URL": url, "Table": "app_users", "Map": json.dumps(MAP),
                              "Where": "active == 1"}
    config.update(overrides)
    return SQLResolver("appdb", config)


@pytest.fixture
def resolver(user_db: str) -> Iterator[SQLResolver]:
    r = make(user_db)
    yield r
    r.close()


def test_lookup_and_attributes(resolver: SQLResolver) -> None:
    uid = resolver.uid_for("alice")
    assert uid is not None and uid.isdigit()
    record = resolver.get(uid)
    assert record is not None
    assert record.login == "alice" and record.uid == uid
    assert record.attributes == {"userid": uid, "username": "alice", "givenname": "Alice",
                                 "surname": "Liddell", "email": "alice@example.com", "phone": "+49 1",
                                 "mobile": "+49 2", "department": "sales"}
    assert "password" not in record.attributes
    assert resolver.uid_for("nobody") is None
    assert resolver.uid_for("alice' OR '1'='1") is None
    assert resolver.uid_for("a%") is None  # a login is compared, never a pattern
    assert resolver.get("999999") is None


def test_where_hides_rows(resolver: SQLResolver, user_db: str) -> None:
    assert resolver.uid_for("ghost") is None
    with _closing(make(user_db, Where="")) as everyone:
        ghost = everyone.uid_for("ghost")
        assert ghost is not None
    assert resolver.get(ghost) is None
    assert not resolver.check_password(ghost, "")
    with _closing(make(user_db, Where="dept == it AND active = 1")) as it:
        assert [u.login for u in it.search()] == ["bob", "b_x"]
    with _closing(make(user_db, Where="mail like %@example.org")) as org:
        assert [u.login for u in org.search()] == ["bob"]


def test_search_wildcards_and_paging(resolver: SQLResolver, user_db: str) -> None:
    def logins(**filters: str) -> list[str]:
        return [u.login for u in resolver.search(filters)]

    assert logins(username="alice") == ["alice"]
    assert logins(username="ALICE") == ["alice"]  # case-insensitive like the flat file
    assert logins(username="b*") == ["bob", "b_x"]
    assert logins(username="b_*") == ["b_x"]  # "_" is literal, not LIKE's any-character
    assert logins(email="*@example.*") == ["alice", "bob"]
    assert logins(givenname="*o*", surname="b*") == ["bob"]
    assert logins(department="it") == ["bob", "b_x"]
    assert logins(password="*") == []  # hashes are not searchable
    assert logins(shell="*") == []
    first = resolver.search({"username": "*"}, limit=2)
    second = resolver.search({"username": "*"}, offset=2, limit=2)
    everyone = resolver.search({"username": "*"}, limit=1000)
    assert len(everyone) == 3 + len(FORMATS)
    assert [u.uid for u in first + second] == [u.uid for u in everyone[:4]]
    alice = int(resolver.uid_for("alice") or 0)
    assert [u.login for u in resolver.search({"userid": f"between {alice},{alice + 1}"})] == ["alice", "bob"]
    assert [u.login for u in resolver.search({"userid": f"<={alice}"})] == ["alice"]
    with _closing(make(user_db, Limit=2)) as capped:
        assert len(capped.search()) == 2  # Limit caps a search without paging
        assert len(capped.search(limit=5)) == 5


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_password_formats(resolver: SQLResolver, name: str) -> None:
    password, _ = FORMATS[name]
    uid = resolver.uid_for(f"fmt-{name}")
    assert uid is not None
    assert resolver.check_password(uid, password)
    assert not resolver.check_password(uid, password + "!")
    assert not resolver.check_password(uid, "")


def test_password_check_without_password_column(user_db: str) -> None:
    mapping = {k: v for k, v in MAP.items() if k != "password"}
    with _closing(make(user_db, Map=json.dumps(mapping))) as r:
        uid = r.uid_for("alice")
        assert uid is not None and not r.check_password(uid, "pw-256")
    bob_resolver = make(user_db)
    uid = bob_resolver.uid_for("bob")  # NULL password column
    assert uid is not None and not bob_resolver.check_password(uid, "")
    bob_resolver.close()


def test_read_only_resolver_refuses_edits(resolver: SQLResolver) -> None:
    with pytest.raises(ResolverError, match="not editable"):
        resolver.add_user({"username": "eve"})
    uid = resolver.uid_for("bob")
    assert uid is not None
    with pytest.raises(ResolverError, match="not editable"):
        resolver.update_user(uid, {"email": "x@y.z"})
    with pytest.raises(ResolverError, match="not editable"):
        resolver.delete_user(uid)


@pytest.mark.parametrize("hash_type", ["SSHA256", "SHA512CRYPT", "PHPASS", "BCRYPT"])
def test_editable_add_update_delete(user_db: str, hash_type: str) -> None:
    with _closing(make(user_db, Editable=True, Password_Hash_Type=hash_type)) as r:
        uid = r.add_user({"username": "eve", "givenname": "Eve", "email": "eve@example.com",
                          "password": "Secr3t", "department": "ops"})
        assert r.uid_for("eve") == uid
        record = r.get(uid)
        assert record is not None and record.attributes["department"] == "ops"
        assert r.check_password(uid, "Secr3t") and not r.check_password(uid, "secr3t")
        stored = _raw_password(user_db, "eve")
        assert "Secr3t" not in stored and verify_password("Secr3t", stored)

        r.update_user(uid, {"surname": "Evans", "password": "N3w"})
        record = r.get(uid)
        assert record is not None and record.attributes["surname"] == "Evans"
        assert record.attributes["givenname"] == "Eve"  # attributes not given stay
        assert r.check_password(uid, "N3w") and not r.check_password(uid, "Secr3t")
        r.update_user(uid, {"username": "eve2"})
        assert r.uid_for("eve") is None and r.uid_for("eve2") == uid

        with pytest.raises(ResolverError, match="user id cannot change"):
            r.update_user(uid, {"userid": "1"})
        with pytest.raises(ResolverError, match="not in its Map: shell"):
            r.update_user(uid, {"shell": "/bin/sh"})
        with pytest.raises(ResolverError, match="appdb: adding a user failed"):
            r.add_user({"username": "alice"})  # unique login

        r.delete_user(uid)
        assert r.get(uid) is None
        with pytest.raises(UserError):
            r.delete_user(uid)
        with pytest.raises(UserError):
            r.update_user(uid, {"surname": "x"})


def test_edits_stay_within_where(user_db: str) -> None:
    with _closing(make(user_db, Editable="1", Where="")) as everyone:
        ghost = everyone.uid_for("ghost")
    assert ghost is not None
    with _closing(make(user_db, Editable="1")) as r:
        with pytest.raises(UserError):
            r.update_user(ghost, {"surname": "x"})
        with pytest.raises(UserError):
            r.delete_user(ghost)


def test_added_user_outside_where_is_undone(user_db: str) -> None:
    with _closing(make(user_db, Editable=True, Where="dept == it")) as r:
        with pytest.raises(ResolverError, match="does not satisfy Where"):
            r.add_user({"username": "outsider", "department": "sales"})
        assert r.add_user({"username": "insider", "department": "it"}) == r.uid_for("insider")
    with _closing(make(user_db, Where="")) as everyone:
        assert everyone.uid_for("outsider") is None


def _raw_password(url: str, login: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(select(users.c.pw).where(users.c.login == login)).scalar_one())
    finally:
        engine.dispose()


def test_privacyidea_style_connection_keys(user_db: str) -> None:
    url = make_url(user_db)
    if url.get_backend_name() == "sqlite":
        config = {"Driver": "sqlite", "Database": url.database}
    else:
        config = {"Driver": "postgresql", "Server": url.host, "Port": str(url.port or 5432),
                  "Database": url.database, "User": url.username, "Password": url.password or ""}
    r = SQLResolver("appdb", {**config, "Table": "app_users", "Map": MAP, "Limit": "50",
                              "poolSize": 2, "poolTimeout": 3})
    try:
        assert r.uid_for("bob") is not None
        assert r.test_connection() == (True, f"Resolver config seems OK. {4 + len(FORMATS)} Users found.")
    finally:
        r.close()


def test_database_errors_name_the_reason_not_the_password(user_db: str) -> None:
    url = make_url(user_db)
    with _closing(make(user_db, Table="no_such_table")) as r:
        with pytest.raises(ResolverError, match="resolver appdb: looking up a user failed") as info:
            r.uid_for("alice")
        assert "no_such_table" in str(info.value) and not isinstance(info.value, Unavailable)
        assert r.test_connection()[0] is False
    if url.get_backend_name() == "postgresql":
        # The test server trusts every password, so the failure is an unknown database; a
        # refused connection is unavailable whatever the reason (libpq gives no SQLSTATE).
        secret = "Wr0ng-Pa55word"
        wrong = url.set(password=secret, database="no_such_db").render_as_string(hide_password=False)
        with _closing(make(wrong)) as r:
            with pytest.raises(UserStoreUnavailable) as info:
                r.uid_for("alice")
            assert "no_such_db" in str(info.value)
            assert secret not in str(info.value) and "***" in str(info.value)
            ok, message = r.test_connection()
            assert not ok and secret not in message


def test_a_user_database_that_does_not_answer_is_unavailable() -> None:
    with _closing(make(f"postgresql+psycopg://reader:Wr0ng-Pa55word@127.0.0.1:{free_port()}/users")) as r:
        with pytest.raises(UserStoreUnavailable, match="looking up a user failed on .*Connection refused") as info:
            r.uid_for("alice")
        assert "Wr0ng-Pa55word" not in str(info.value)


@pytest.mark.parametrize(("override", "message"), [
    ({"Map": json.dumps({"username": "login"})}, "userid are mandatory"),
    ({"Map": "{not json"}, "Map: not valid JSON"),
    ({"Table": "users; DROP TABLE x"}, "not a table name"),
    ({"Where": "active"}, "Where: cannot read"),
    ({"Password_Hash_Type": "ROT13"}, "unknown type"),
    ({"URL": "", "Driver": ""}, "Driver: missing"),
    ({"URL": "nodriver+nothing://x/y"}, "cannot use"),
])
def test_bad_configuration_is_refused(user_db: str, override: dict[str, Any], message: str) -> None:
    with pytest.raises(ResolverError, match=message):
        make(user_db, **override)


def test_hash_types_are_all_writable(user_db: str) -> None:
    for hash_type in HASH_TYPES:
        with _closing(make(user_db, Editable=True, Password_Hash_Type=hash_type.lower())) as r:
            uid = r.add_user({"username": f"h-{hash_type}", "password": "x"})
            assert r.check_password(uid, "x"), hash_type
