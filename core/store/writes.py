"""Long writes as a series of short transactions that survive lock conflicts.

A write transaction holds the database's write lock (SQLite: the one writer, queued by the
write gate; PostgreSQL and MariaDB: the locks of the rows it touched) until it ends, so a
bulk change done in one transaction makes every login that writes wait for all of it.
``commit_retrying`` runs one part of such a change (a batch of a few hundred rows) as a
transaction of its own and commits it; when the transaction meets a lock conflict that
waiting did not resolve (SQLite busy or locked, the write gate's timeout, a PostgreSQL
deadlock or serialization failure, a MariaDB deadlock or lock wait timeout), it is rolled
back and run again, a bounded number of times, after a short random pause.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tesserad.core.errors import DatabaseBusy

T = TypeVar("T")
ATTEMPTS = 5
# The first pause before a retry; each further one doubles (plus jitter, so that two
# colliding writers do not collide again).
FIRST_PAUSE_S = 0.05
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
# serialization_failure, deadlock_detected, lock_not_available
_POSTGRESQL_CONFLICTS = frozenset({"40001", "40P01", "55P03"})
# ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK
_MARIADB_CONFLICTS = frozenset({1205, 1213})


def lock_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` aborted a transaction only because other writers held locks, so that
    running it again can succeed."""
    if isinstance(exc, DatabaseBusy):
        return True
    cause = exc.orig if isinstance(exc, DBAPIError) else None
    if cause is None:
        return False
    code = getattr(cause, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)  # extended codes: SQLITE_BUSY_SNAPSHOT ...
    state = getattr(cause, "sqlstate", None)
    if state is not None:
        return state in _POSTGRESQL_CONFLICTS
    args: tuple[object, ...] = getattr(cause, "args", ())
    return bool(args) and args[0] in _MARIADB_CONFLICTS


def commit_retrying(session: Session, work: Callable[[Session], T], *, attempts: int = ATTEMPTS,
                    pause: Callable[[float], None] = time.sleep) -> T:
    """``work(session)`` committed as one transaction; rolled back and run again when a lock
    conflict aborts it, at most ``attempts`` times in all (then the last error is raised).
    ``work`` must start from what the database holds: it is run anew, not resumed. Any
    other error rolls back and is raised at once."""
    attempt = 1
    while True:
        try:
            value = work(session)
            session.commit()
            return value
        except Exception as exc:
            session.rollback()
            if attempt >= attempts or not lock_conflict(exc):
                raise
        pause(FIRST_PAUSE_S * 2 ** (attempt - 1) * random.uniform(1, 2))  # nosec B311  # jitter of a retry pause, no secret
        attempt += 1


def begin_write(session: Session) -> None:
    """Open the session's write transaction now, before savepoints or reads that must see
    the state the writes will change. pysqlite begins a transaction only at the first
    INSERT, UPDATE or DELETE; a SAVEPOINT before that opens a deferred one instead, whose
    release commits and whose first write may find its snapshot outdated. ``BEGIN
    IMMEDIATE`` (queued by the write gate) avoids both. Other databases begin at the
    first statement anyway."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
