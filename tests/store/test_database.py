"""Database: connecting, SQLite settings, schema states and migrations."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from tesserad.core.errors import DatabaseError, DatabaseUnavailable, SchemaError, Unavailable
from tesserad.core.store import Database
from tesserad.core.store.database import _alembic_config
from tesserad.core.store.models import Base

from tests.helpers import free_port

PASSWORD = "S3cret-Pw-never-shown"


def test_upgrade_creates_the_schema_once(database: Database) -> None:
    assert database.schema_state() == "empty"
    assert database.current_revision() is None

    database.upgrade()
    assert database.schema_state() == "current"
    assert database.current_revision() == database.head_revision()

    database.upgrade()  # nothing to do
    assert database.current_revision() == database.head_revision()


def test_migrated_schema_matches_the_models(migrated: Database) -> None:
    with migrated.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_upgrade_again(migrated: Database) -> None:
    with migrated.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "base")
    assert migrated.schema_state() == "empty"
    migrated.upgrade()
    assert migrated.schema_state() == "current"


def test_newer_schema_is_refused(migrated: Database) -> None:
    with migrated.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))

    with pytest.raises(SchemaError, match=r"9999_from_the_future.*newer tesserad"):
        migrated.schema_state()
    with pytest.raises(SchemaError, match="9999_from_the_future"):
        migrated.upgrade()
    assert migrated.current_revision() == "9999_from_the_future"


def test_foreign_database_is_not_touched(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE someone_elses (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaError, match=r"no tesserad schema revision.*someone_elses"):
        database.schema_state()
    with pytest.raises(SchemaError):
        database.upgrade()


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'tesserad.db'}")
    try:
        db.upgrade()  # turns foreign keys off while it runs; they must be back on after
        for _ in range(2):
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_sqlite_in_a_missing_directory_names_the_reason(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'missing' / 'tesserad.db'}")
    with pytest.raises(DatabaseError, match=r"database unreachable: .*missing does not exist"):
        db.ping()


def test_ping(database: Database) -> None:
    database.ping()


def test_unreachable_postgresql_never_shows_the_password() -> None:
    db = Database(f"postgresql+psycopg://tesserad:{PASSWORD}@127.0.0.1:{free_port()}/tesserad")
    assert PASSWORD not in db.url and "***" in db.url
    with pytest.raises(DatabaseUnavailable, match=r"^database unreachable: ") as caught:
        db.ping()
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))
    # Any statement of the core, not only the health check, meets the same one error.
    with pytest.raises(DatabaseUnavailable, match="Connection refused") as caught, db.session() as session:
        session.execute(text("SELECT 1"))
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))


def test_a_statement_the_database_refuses_is_not_unavailable(database: Database) -> None:
    with pytest.raises(Exception) as caught, database.session() as session:
        session.execute(text("SELECT * FROM no_such_table"))
    assert "no_such_table" in str(caught.value) and not isinstance(caught.value, Unavailable)


def test_invalid_url_never_shows_the_password() -> None:
    with pytest.raises(DatabaseError, match="invalid database URL") as caught:
        Database(f"postgresql+psycopg://tesserad:{PASSWORD}@db.example:port/tesserad")
    assert PASSWORD not in str(caught.value)


def test_unknown_driver_is_a_database_error() -> None:
    with pytest.raises(DatabaseError, match="cannot use database") as caught:
        Database(f"nosuchdb://tesserad:{PASSWORD}@127.0.0.1/tesserad")
    assert PASSWORD not in str(caught.value)
