"""The ``Database`` handle: engine, sessions, health check and schema migrations.

One ``Database`` per process wraps one SQLAlchemy engine. The daemon, the admin CLI and
the tests all reach the schema through ``schema_state()`` and ``upgrade()``, so a
process never runs against a schema it does not know.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tesserad import __version__
from tesserad.core.errors import DatabaseBusy, DatabaseError, DatabaseUnavailable, SchemaError
from tesserad.core.store.faults import unreachable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
# WAL with synchronous=NORMAL survives a crash of tesserad intact, but a power loss or OS
# crash may roll back the last transactions (an OTP used in those moments could be used
# again); FULL syncs every commit and halves the login rate. PostgreSQL is always durable.
SQLITE_SYNCHRONOUS = ("normal", "full")
# libpq waits for the OS TCP timeout (minutes) by default; a health check must not.
POSTGRESQL_CONNECT_TIMEOUT_S = 10
# Key of the PostgreSQL advisory lock that lets one process at a time migrate ("tesserad").
_MIGRATION_LOCK_KEY = int.from_bytes(b"tesserad", "big")


class Database:
    """A database reachable through one SQLAlchemy engine.

    ``url`` is any SQLAlchemy URL; tesserad supports ``sqlite:///path``,
    ``postgresql+psycopg://`` and ``mysql+pymysql://`` (MariaDB). Nothing connects
    until first use.
    """

    def __init__(self, url: str, *, echo: bool = False, pool_size: int | None = None,
                 sqlite_synchronous: str = "normal") -> None:
        try:
            self._url = make_url(url)
        except (ArgumentError, ValueError):
            # The parser's message would repeat the URL, password included.
            raise DatabaseError(
                "invalid database URL; expected e.g. sqlite:////var/lib/tesserad/tesserad.db "
                "or postgresql+psycopg://user:password@host/dbname"
            ) from None
        options: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if pool_size is not None:
            options["pool_size"] = pool_size
        backend = self._url.get_backend_name()
        if backend == "sqlite":
            # A file cannot go away like a server connection: no pre-ping round trip.
            options["pool_pre_ping"] = False
        if backend == "postgresql" and "connect_timeout" not in self._url.query:
            options["connect_args"] = {"connect_timeout": POSTGRESQL_CONNECT_TIMEOUT_S}
        try:
            self._engine = create_engine(self._url, **options)
        except (ArgumentError, NoSuchModuleError, ImportError, TypeError) as exc:
            raise DatabaseError(f"cannot use database {self.url}: {self._scrub(str(exc))}") from None
        event.listen(self._engine, "handle_error", self._unavailable)
        if backend == "sqlite":
            if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
                raise DatabaseError(f"sqlite_synchronous must be one of {', '.join(SQLITE_SYNCHRONOUS)}")
            event.listen(self._engine, "connect", functools.partial(_sqlite_on_connect, sqlite_synchronous))
            SqliteWriteGate(SQLITE_BUSY_TIMEOUT_MS / 1000, _lock_file_for(self._url.database)).install(self._engine)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        """The URL with the password masked, fit for logs and messages."""
        return self._url.render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        return self._engine

    def session(self) -> Session:
        """A new ORM session; objects stay usable after commit (no implicit reload)."""
        return self._sessions()

    def ping(self) -> None:
        """Check that the database answers; raises DatabaseError naming the reason."""
        with self._errors("database unreachable"), self._engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def current_revision(self) -> str | None:
        """The schema revision recorded in the database; None for an unversioned database."""
        with self._errors("cannot read the schema revision"), self._engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str:
        """The schema revision this version of tesserad runs against."""
        return _head_revision()

    def schema_state(self) -> str:
        """``empty``, ``current`` or ``outdated``.

        Raises SchemaError for a schema this version does not know (written by a newer
        tesserad) and for a non-empty database without a tesserad schema revision.
        """
        with self._errors("cannot read the schema revision"), self._engine.connect() as conn:
            return _schema_state(conn)

    def upgrade(self) -> None:
        """Create or upgrade the schema to this version's head. On SQLite and PostgreSQL
        this is one transaction that one process at a time runs; MariaDB commits each DDL
        statement on its own."""
        with (
            self._errors("schema upgrade failed"),
            self._engine.connect() as conn,
            _migration_transaction(conn),
        ):
            if _schema_state(conn) == "current":
                return
            command.upgrade(_alembic_config(conn), "head")

    def dispose(self) -> None:
        """Close all pooled connections."""
        self._engine.dispose()

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Turn driver errors into DatabaseError, with the reason and without the password."""
        try:
            yield
        except SQLAlchemyError as exc:
            kind = DatabaseUnavailable if unreachable(exc) else DatabaseError
            raise kind(f"{what}: {self.url}: {self._reason(exc)}") from exc

    def _unavailable(self, context: ExceptionContext) -> DatabaseUnavailable | None:
        """The engine's errors hook: a connection that cannot be opened or was lost becomes
        DatabaseUnavailable wherever the core runs SQL, so every edge answers "ask again"
        instead of "no". A failed pre-ping is left alone: the pool then simply reconnects."""
        exc = context.sqlalchemy_exception
        if context.is_pre_ping or exc is None or not unreachable(exc):
            return None
        return DatabaseUnavailable(f"database unreachable: {self.url}: {self._reason(exc)}")

    def _reason(self, exc: SQLAlchemyError) -> str:
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        reason = self._scrub(" ".join(str(cause).split())) or type(cause).__name__
        path = self._url.database
        if self._url.get_backend_name() == "sqlite" and path and path != ":memory:":
            directory = Path(path).parent
            if not directory.is_dir():
                reason += f" (directory {directory} does not exist)"
        return reason

    def _scrub(self, message: str) -> str:
        password = self._url.password
        return message.replace(str(password), "***") if password else message


def _lock_file_for(database: str | None) -> Path | None:
    """The file whose lock orders writers of all processes; none for in-memory databases."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + "-writer.lock")


class SqliteWriteGate:
    """One writing connection at a time, queued on a Python lock within the process and on
    a file lock (flock) across processes.

    SQLite has one writer per database. A second writer waits in SQLite's busy handler,
    which sleeps in growing steps (1, 2, 5, 10 ... 100 ms) and polls, so under load the lock
    sits free while waiters sleep: p99 latencies of a second at a few hundred logins/s.
    Writers queue here instead and the kernel or the lock wakes the next one the moment the
    previous write transaction ends (at check-in of its connection, i.e. after commit or
    rollback). A write transaction starts at the first INSERT, UPDATE or DELETE (pysqlite
    begins it there), so reads never queue. A SAVEPOINT or BEGIN IMMEDIATE queues too: either
    may open the transaction before its first write, and a transaction that has read must not
    meet another writer's commit before its own first write (SQLite would refuse that write at
    once: "database is locked"). Processes that do not use the gate (an older tesserad, the
    sqlite3 shell) still meet SQLite's own lock and busy timeout, which also bounds how long a
    gate holder can wait for them.
    """

    _KEY = "tesserad_write_gate"
    _WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "BEGIN IMMEDIATE")

    def __init__(self, timeout: float, lock_file: Path | None = None):
        self._lock = threading.Lock()
        self._timeout = timeout
        self._lock_file = lock_file
        self._fd: int | None = None

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine.pool, "checkin", self._checkin)
        event.listen(engine.pool, "invalidate", self._invalidate)

    def _before_execute(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        info = conn.info
        if info.get(self._KEY) or not statement.lstrip()[:15].upper().startswith(self._WRITES):
            return
        if not self._lock.acquire(timeout=self._timeout):
            raise DatabaseBusy(f"database busy: no write slot within {self._timeout:g} s")
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without the GIL; released by the kernel on exit
        except OSError as exc:
            self._lock.release()
            raise DatabaseError(f"cannot lock {self._lock_file}: {exc.strerror}") from None
        info[self._KEY] = True

    def _file(self) -> int | None:
        if self._fd is None and self._lock_file is not None:
            self._fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    def _release(self, info: dict[str, Any]) -> None:
        if info.pop(self._KEY, False):
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._lock.release()

    def _checkin(self, _dbapi_connection: Any, record: Any) -> None:
        self._release(record.info)

    def _invalidate(self, _dbapi_connection: Any, record: Any, _exception: Any) -> None:
        self._release(record.info)


def _sqlite_on_connect(synchronous: str, dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the one writer; the busy timeout makes a second writer
    (another thread or process) wait instead of failing; SQLite enforces foreign keys, and
    with them ON DELETE CASCADE, only when asked. ``synchronous``: see SQLITE_SYNCHRONOUS."""
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    finally:
        cursor.close()


def _alembic_config(connection: Connection | None = None) -> AlembicConfig:
    """An Alembic configuration built in code: no alembic.ini is needed on disk."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_alembic_config())


def _head_revision() -> str:
    head = _scripts().get_current_head()
    if head is None:
        raise SchemaError(f"no schema revisions found in {MIGRATIONS_DIR}")
    return head


def _schema_state(conn: Connection) -> str:
    current = MigrationContext.configure(conn).get_current_revision()
    if current is None:
        tables = sorted(set(inspect(conn).get_table_names()) - {"alembic_version"})
        if tables:
            raise SchemaError(
                "the database is not empty but has no tesserad schema revision "
                f"(it has tables {', '.join(tables[:5])}{', ...' if len(tables) > 5 else ''}); "
                "refusing to use it"
            )
        return "empty"
    if current == _head_revision():
        return "current"
    # Compare exact ids: Alembic would also resolve a mere prefix of a known revision.
    if current not in {script.revision for script in _scripts().walk_revisions()}:
        raise SchemaError(
            f"the database schema revision {current!r} is unknown to tesserad {__version__} "
            f"(which knows up to {_head_revision()!r}); it was probably written by a newer "
            "tesserad: run that version or restore a backup taken before its upgrade"
        )
    return "outdated"


@contextlib.contextmanager
def _migration_transaction(conn: Connection) -> Iterator[None]:
    """The transaction a migration runs in.

    SQLite: pysqlite would run DDL outside any transaction, and with foreign keys on,
    Alembic's table rebuilds (batch mode) would cascade-delete child rows. So, as SQLite's
    ALTER TABLE documentation prescribes: foreign keys off, one explicit write
    transaction (which also serializes concurrent upgrades), a foreign key check before
    commit, foreign keys back on. PostgreSQL: transactional DDL under an advisory lock,
    so N processes starting together migrate once.
    """
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys = OFF")
        saved_isolation = raw.isolation_level
        raw.isolation_level = None  # we issue BEGIN ourselves
        try:
            with conn.begin():
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield
                if conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise SchemaError("schema upgrade aborted: it would leave dangling foreign keys")
        finally:
            raw.isolation_level = saved_isolation
            raw.execute("PRAGMA foreign_keys = ON")
        return
    with conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        yield
