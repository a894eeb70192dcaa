"""Long writes in short transactions: which errors are lock conflicts (real ones, from SQLite
and PostgreSQL), the bounded retry of ``commit_retrying``, and SQLite write transactions that
begin before their first write without going stale."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from tesserad.core.errors import DatabaseBusy
from tesserad.core.store import Database
from tesserad.core.store.models import Token
from tesserad.core.store.writes import ATTEMPTS, FIRST_PAUSE_S, begin_write, commit_retrying, lock_conflict

from tests.pgserver import fresh_database

WHEN = datetime(2026, 1, 1, tzinfo=UTC)
GATE = "tesserad_write_gate"


def add(session: Session, serial: str) -> None:
    session.add(Token(serial=serial, tokentype="hotp", created_at=WHEN))
    session.flush()


def serials(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(Token.serial).order_by(Token.serial)))


class Flaky:
    """Work that meets ``failures`` lock conflicts (the write gate's own error) before it
    gets through; each attempt writes a token first, which the rollback must undo."""

    def __init__(self, failures: int):
        self.failures = failures
        self.attempts = 0

    def __call__(self, session: Session) -> str:
        self.attempts += 1
        add(session, f"T{self.attempts}")
        if self.attempts <= self.failures:
            raise DatabaseBusy("database busy: no write slot within 5 s")
        return "done"


def test_a_lock_conflict_is_rolled_back_and_run_again(migrated: Database) -> None:
    pauses: list[float] = []
    work = Flaky(failures=2)
    with migrated.session() as session:
        assert commit_retrying(session, work, pause=pauses.append) == "done"
    assert serials(migrated) == ["T3"] and work.attempts == 3
    assert len(pauses) == 2 and FIRST_PAUSE_S <= pauses[0] <= 2 * FIRST_PAUSE_S < pauses[1] <= 4 * FIRST_PAUSE_S


def test_retries_are_bounded_and_other_errors_are_not_retried(migrated: Database) -> None:
    work = Flaky(failures=ATTEMPTS)
    with migrated.session() as session, pytest.raises(DatabaseBusy):
        commit_retrying(session, work, pause=lambda _: None)
    assert work.attempts == ATTEMPTS and serials(migrated) == []

    def duplicate(session: Session) -> None:
        add(session, "D1")
        add(session, "D1")

    calls: list[float] = []
    with migrated.session() as session, pytest.raises(IntegrityError) as raised:
        commit_retrying(session, duplicate, pause=calls.append)
    assert calls == [] and serials(migrated) == [] and not lock_conflict(raised.value)


def test_sqlite_busy_is_a_conflict(sqlite_db: Database) -> None:
    path = sqlite_db.engine.url.database
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    impatient = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        holder.execute("BEGIN IMMEDIATE")
        with impatient.connect() as conn, pytest.raises(DBAPIError) as raised:
            conn.execute(text("DELETE FROM token"))
        assert "database is locked" in str(raised.value.orig) and lock_conflict(raised.value)
    finally:
        holder.close()
        impatient.dispose()


@pytest.fixture
def postgresql_db(postgres_server: str) -> Iterator[Database]:
    """PostgreSQL alone: its row locks are what the test is about."""
    with fresh_database(postgres_server) as url:
        database = Database(url)
        database.upgrade()
        try:
            yield database
        finally:
            database.dispose()


@pytest.mark.postgresql
def test_postgresql_lock_timeout_is_a_conflict(postgresql_db: Database) -> None:
    with postgresql_db.session() as session:
        add(session, "P1")
        session.commit()
    with postgresql_db.session() as holder, postgresql_db.session() as other:
        holder.execute(select(Token).where(Token.serial == "P1").with_for_update())
        other.execute(text("SET LOCAL lock_timeout = '10ms'"))
        with pytest.raises(DBAPIError) as raised:
            other.execute(text("UPDATE token SET count = 1 WHERE serial = 'P1'"))
        assert raised.value.orig.sqlstate == "55P03" and lock_conflict(raised.value)  # type: ignore[union-attr]


def test_a_savepoint_before_the_first_write_takes_the_write_slot(sqlite_db: Database) -> None:
    """A deferred SQLite transaction opened by a SAVEPOINT reads a snapshot; had another writer
    committed before its first write, that write would fail at once ("database is locked").
    Holding the write gate from the SAVEPOINT on, no other writer can commit in between."""
    with sqlite_db.session() as session:
        with session.begin_nested():
            assert session.connection().info.get(GATE) is True
            assert session.scalar(select(func.count()).select_from(Token)) == 0
            add(session, "S1")
        session.commit()
    assert serials(sqlite_db) == ["S1"]


def test_begin_write_opens_the_transaction_at_once(sqlite_db: Database) -> None:
    with sqlite_db.session() as session:
        assert session.scalar(select(func.count()).select_from(Token)) == 0
        begin_write(session)
        connection = session.connection()
        assert connection.info.get(GATE) is True
        raw = connection.connection.dbapi_connection
        assert raw is not None and raw.in_transaction
        with session.begin_nested():  # nested inside: its release commits nothing
            add(session, "B1")
        session.rollback()
    assert serials(sqlite_db) == []
