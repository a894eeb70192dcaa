"""The SQL resolver (``sqlresolver``): users from one table of any SQL database.

Configured as privacyIDEA configures it (``Driver``, ``Server``, ``Port``, ``Database``,
``User``, ``Password``, ``Table``, ``Map``, ``Where``, ``Limit``, ``Editable``,
``Password_Hash_Type``, pool settings), or, as a tesserad convenience, by one ``URL`` (any
SQLAlchemy URL) that replaces the connection keys. ``Map`` names the column behind each
attribute: ``userid`` and ``username`` are mandatory; ``password`` is the column checked
for ``otppin=userstore`` and written by editable resolvers; any other key becomes a
custom attribute.

Queries are built with SQLAlchemy Core ``table()``/``column()`` constructs, so nothing
is reflected and the user database is read only as mapped. Errors of the user database
become ``ResolverError`` naming the resolver and the reason, never the password; a user
database that cannot be reached is ``UserStoreUnavailable``.
"""

from __future__ import annotations

import contextlib
import json
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    String,
    and_,
    cast,
    column,
    create_engine,
    delete,
    func,
    insert,
    literal,
    select,
    table,
    update,
)
from sqlalchemy.engine import URL, RowMapping, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.sql.expression import ColumnClause, TableClause
from sqlalchemy.types import NullType

from tesserad.core.clock import Clock
from tesserad.core.store.faults import unreachable
from tesserad.core.users.base import (
    ConfigKey,
    Resolver,
    ResolverError,
    UserError,
    UserRecord,
    UserStoreUnavailable,
    register_resolver,
)
from tesserad.core.users.hashes import DEFAULT_HASH_TYPE, HASH_TYPES, hash_password, verify_password
from tesserad.core.users.own_database import same_database
from tesserad.core.users.patterns import LIKE_ESCAPE, like_pattern, matches_everything, parse_uid_range

# privacyIDEA's Driver values are bare dialect names; tesserad ships these DBAPI drivers.
DRIVER_ALIASES = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
# Where: ``column op value`` clauses joined by AND, as privacyIDEA reads it.
_WHERE_CLAUSE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|=|!=|<>|>=|<=|>|<)\s*(.+?)\s*")
_WHERE_LIKE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+(like)\s+(.+?)\s*", re.IGNORECASE)
_WHERE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "=": operator.eq, "!=": operator.ne, "<>": operator.ne,
    ">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le,
    "like": lambda col, value: col.like(value),
}
_WHERE_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _json_map(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError:
            raise ResolverError("Map: not valid JSON") from None
    if not isinstance(value, Mapping) or not all(isinstance(v, str) and v for v in value.values()):
        raise ResolverError('Map: expected a JSON object of attribute -> column, e.g. '
                            '{"userid": "id", "username": "login"}')
    mapping = {str(k): v for k, v in value.items()}
    missing = [k for k in ("userid", "username") if k not in mapping]
    if missing:
        raise ResolverError(f"Map: the attributes {', '.join(missing)} are mandatory")
    return mapping


def _bind(value: Any) -> ColumnElement[Any]:
    """A parameter without a declared type. The user table is not reflected, so a typed
    (VARCHAR) parameter would not compare with an integer id column on PostgreSQL; an
    untyped one takes the column's type in the database."""
    return literal(value, NullType())


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _where(text: str, source: TableClause) -> list[ColumnElement[bool]]:
    """``Where`` as SQL conditions; values are bound parameters, never SQL text."""
    conditions: list[ColumnElement[bool]] = []
    if not text or not text.strip():
        return conditions
    for clause in _WHERE_AND.split(text.strip()):
        match = _WHERE_LIKE.fullmatch(clause) or _WHERE_CLAUSE.fullmatch(clause)
        if not match:
            raise ResolverError(f"Where: cannot read {clause!r}; expected e.g. 'active == 1' or "
                                "'email like %@example.com', joined by AND")
        name, op, value = match.group(1), match.group(2).lower(), _unquote(match.group(3))
        col = source.c[name] if name in source.c else column(name)
        conditions.append(_WHERE_OPS[op](col, _bind(value)))
    return conditions


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


@register_resolver
class SQLResolver(Resolver):
    rtype = "sqlresolver"
    config_keys = {
        "URL": ConfigKey("password", "", doc="any SQLAlchemy URL (tesserad); replaces Driver, "
                         "Server, Port, Database, User and Password; kept encrypted"),
        "Driver": ConfigKey("str", "", doc="SQLAlchemy dialect, e.g. postgresql, mysql, sqlite"),
        "Server": ConfigKey("str", ""),
        "Port": ConfigKey("int", None),
        "Database": ConfigKey("str", ""),
        "User": ConfigKey("str", ""),
        "Password": ConfigKey("password", ""),
        "Table": ConfigKey("str", "", required=True, doc="the one table with the users"),
        "Limit": ConfigKey("int", 100, doc="most users a search returns without paging"),
        "Map": ConfigKey("json", None, required=True, doc="attribute -> column, JSON"),
        "Where": ConfigKey("str", "", doc="extra conditions, e.g. 'active == 1 AND type like user%'"),
        "Editable": ConfigKey("bool", False),
        "Password_Hash_Type": ConfigKey("str", DEFAULT_HASH_TYPE, doc=", ".join(HASH_TYPES)),
        "poolSize": ConfigKey("int", 5),
        "poolTimeout": ConfigKey("int", 10),
        "poolRecycle": ConfigKey("int", 7200),
        # Accepted so that privacyIDEA exports import; not used (as in privacyIDEA).
        "conParams": ConfigKey("str", ""),
        "Encoding": ConfigKey("str", "utf-8"),
    }

    def __init__(self, name: str, config: Mapping[str, Any], *, clock: Clock | None = None):
        super().__init__(name, config, clock=clock)
        self.editable = bool(self.config.get("Editable"))
        self.limit = int(self.config.get("Limit") or 100)
        self.hash_type = str(self.config.get("Password_Hash_Type") or DEFAULT_HASH_TYPE).upper()
        if self.hash_type not in HASH_TYPES:
            raise ResolverError(f"Password_Hash_Type: unknown type {self.hash_type!r}; "
                                f"known: {', '.join(HASH_TYPES)}")
        self.mapping = _json_map(self.config.get("Map"))
        self._table = self._table_clause(self.mapping)
        self._columns: dict[str, ColumnClause[Any]] = {a: self._table.c[c] for a, c in self.mapping.items()}
        self._where = _where(str(self.config.get("Where") or ""), self._table)
        self._secrets = [s for s in (self.config.get("Password"), self.config.get("URL")) if s]
        self._url = self._connection_url()
        self._engine = self._create_engine()

    # ---- construction ------------------------------------------------------------------

    def _table_clause(self, mapping: Mapping[str, str]) -> TableClause:
        name = str(self.config.get("Table") or "").strip()
        parts = name.split(".")
        if not name or len(parts) > 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
            raise ResolverError(f"Table: {name!r} is not a table name (optionally schema.table)")
        columns = sorted(set(mapping.values()))
        return table(parts[-1], *(column(c) for c in columns), schema=parts[0] if len(parts) == 2 else None)

    def _connection_url(self) -> URL:
        raw_url = self.config.get("URL")
        if raw_url:
            try:
                return make_url(str(raw_url))
            except (ArgumentError, ValueError):
                raise ResolverError("URL: not a valid SQLAlchemy URL, e.g. "
                                    "postgresql+psycopg://user:password@host/dbname") from None
        driver = str(self.config.get("Driver") or "").strip()
        if not driver:
            raise ResolverError("Driver: missing (or give a URL)")
        driver = DRIVER_ALIASES.get(driver.lower(), driver)
        if driver.split("+", 1)[0] == "sqlite":
            # A file path; SQLite has no server, user or password.
            return URL.create(driver, database=self.config.get("Database") or None)
        port = self.config.get("Port")
        return URL.create(driver,
                          username=self.config.get("User") or None,
                          password=self.config.get("Password") or None,
                          host=self.config.get("Server") or None,
                          port=int(port) if port else None,
                          database=self.config.get("Database") or None)

    def _create_engine(self) -> Engine:
        pool = {"pool_size": int(self.config.get("poolSize") or 5),
                "pool_timeout": int(self.config.get("poolTimeout") or 10),
                "pool_recycle": int(self.config.get("poolRecycle") or 7200)}
        try:
            try:
                return create_engine(self._url, pool_pre_ping=True, **pool)
            except TypeError:
                # Pools without these settings (SQLite in memory): use the dialect's default.
                return create_engine(self._url, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise ResolverError(f"resolver {self.name}: cannot use {self.url}: "
                                f"{self._scrub(str(exc))}") from None

    def reads_database(self, url: URL) -> bool:
        return same_database(self._url, url)

    @property
    def url(self) -> str:
        """The connection URL with the password masked, fit for messages."""
        return self._url.render_as_string(hide_password=True)

    # ---- errors ------------------------------------------------------------------------

    def _scrub(self, message: str) -> str:
        for secret in self._secrets + [self._url.password]:
            if secret:
                message = message.replace(str(secret), "***")
        return message

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Driver errors as ResolverError: the driver's first line, without SQL parameters
        (they may hold password hashes) and without the connection password."""
        try:
            yield
        except SQLAlchemyError as exc:
            cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
            lines = str(cause).strip().splitlines()
            first = lines[0] if lines else type(cause).__name__
            if not isinstance(exc, DBAPIError):
                first = first.split("[SQL:", 1)[0].strip() or type(exc).__name__
            kind = UserStoreUnavailable if unreachable(exc) else ResolverError
            raise kind(f"resolver {self.name}: {what} failed on {self.url}: {self._scrub(first)}") from None

    # ---- queries -----------------------------------------------------------------------

    def _selected(self) -> list[ColumnElement[Any]]:
        return [col.label(attr) for attr, col in self._columns.items() if attr != "password"]

    def _record(self, row: RowMapping) -> UserRecord:
        attributes = {attr: _text(row[attr]) for attr in self._columns if attr != "password"}
        return UserRecord(attributes["userid"], attributes["username"], attributes)

    def _by_uid(self, uid: str) -> list[ColumnElement[bool]]:
        return [self._columns["userid"] == _bind(uid), *self._where]

    def uid_for(self, login: str) -> str | None:
        stmt = (select(self._columns["userid"])
                .where(self._columns["username"] == _bind(login), *self._where).limit(2))
        with self._errors("looking up a user"), self._engine.connect() as conn:
            found = conn.execute(stmt).scalars().all()
        if len(found) > 1:
            raise ResolverError(f"resolver {self.name}: more than one user with login {login!r}")
        return _text(found[0]) if found else None

    def get(self, uid: str) -> UserRecord | None:
        stmt = select(*self._selected()).where(*self._by_uid(uid)).limit(1)
        with self._errors("reading a user"), self._engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return None if row is None else self._record(row)

    def _condition(self, key: str, pattern: str) -> ColumnElement[bool] | None:
        col = self._columns[key]
        if matches_everything(pattern):
            return None
        if key == "userid":
            bounds = parse_uid_range(pattern)
            if bounds is not None:
                parts = [c for c in (None if bounds.low is None else col >= bounds.low,
                                     None if bounds.high is None else col <= bounds.high) if c is not None]
                return and_(*parts)
            return cast(col, String).ilike(_bind(like_pattern(pattern)), escape=LIKE_ESCAPE)
        return col.ilike(_bind(like_pattern(pattern)), escape=LIKE_ESCAPE)

    def search(self, filters: Mapping[str, str] | None = None, *, offset: int = 0,
               limit: int | None = None) -> list[UserRecord]:
        """Matching users ordered by user id; at most ``Limit`` of them unless the caller
        pages explicitly with ``limit``."""
        conditions = list(self._where)
        for key, pattern in (filters or {}).items():
            if key not in self._columns or key == "password":
                return []  # not an attribute of this store (and hashes are not searchable)
            condition = self._condition(key, pattern)
            if condition is not None:
                conditions.append(condition)
        stmt = (select(*self._selected()).where(*conditions).order_by(self._columns["userid"])
                .offset(offset).limit(self.limit if limit is None else limit))
        with self._errors("searching users"), self._engine.connect() as conn:
            return [self._record(row) for row in conn.execute(stmt).mappings()]

    def check_password(self, uid: str, password: str) -> bool:
        if "password" not in self._columns:
            return False
        stmt = select(self._columns["password"]).where(*self._by_uid(uid)).limit(1)
        with self._errors("checking a password"), self._engine.connect() as conn:
            stored = conn.execute(stmt).scalar()
        return verify_password(password, _text(stored))

    def test_connection(self) -> tuple[bool, str]:
        stmt = select(func.count()).select_from(self._table).where(*self._where)
        try:
            with self._errors("counting users"), self._engine.connect() as conn:
                count = conn.execute(stmt).scalar_one()
        except ResolverError as exc:
            return False, str(exc)
        return True, f"Resolver config seems OK. {count} Users found."

    # ---- editing -----------------------------------------------------------------------

    def _values(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Column values for ``attributes``; a new password is hashed here."""
        if not self.editable:
            raise ResolverError(f"resolver {self.name} is not editable")
        unknown = sorted(set(attributes) - set(self._columns))
        if unknown:
            raise ResolverError(f"resolver {self.name}: attributes not in its Map: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for attr, value in attributes.items():
            if attr == "password":
                value = hash_password(str(value), self.hash_type)
            values[self.mapping[attr]] = value
        return values

    def add_user(self, attributes: Mapping[str, Any]) -> str:
        values = self._values(attributes)
        if not attributes.get("username"):
            raise ResolverError(f"resolver {self.name}: a new user needs a username")
        lookup = select(self._columns["userid"]).where(
            self._columns["username"] == _bind(attributes["username"]), *self._where).limit(2)
        with self._errors("adding a user"), self._engine.begin() as conn:
            conn.execute(insert(self._table).values(values))
            found = conn.execute(lookup).scalars().all()
            if len(found) != 1:  # raised inside the transaction, so the insert is undone
                raise ResolverError(f"resolver {self.name}: the new user cannot be found by its "
                                    "username (duplicate login, or it does not satisfy Where)")
        return _text(found[0])

    def update_user(self, uid: str, attributes: Mapping[str, Any]) -> None:
        if "userid" in attributes and _text(attributes["userid"]) != uid:
            raise ResolverError(f"resolver {self.name}: a user id cannot change (tokens refer to it)")
        values = self._values({k: v for k, v in attributes.items() if k != "userid"})
        if not values:
            return
        stmt = update(self._table).where(*self._by_uid(uid)).values(values)
        with self._errors("updating a user"), self._engine.begin() as conn:
            changed = conn.execute(stmt).rowcount
        if not changed:
            raise UserError(f"resolver {self.name} has no user with id {uid!r}")

    def delete_user(self, uid: str) -> None:
        self._values({})  # refuses a read-only resolver
        with self._errors("deleting a user"), self._engine.begin() as conn:
            changed = conn.execute(delete(self._table).where(*self._by_uid(uid))).rowcount
        if not changed:
            raise UserError(f"resolver {self.name} has no user with id {uid!r}")

    def close(self) -> None:
        self._engine.dispose()
