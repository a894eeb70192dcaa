"""Fixtures for the whole suite: databases on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tesserad.core.store import Database

from tests.pgserver import fresh_database, throwaway_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Superuser URL of a PostgreSQL server started once for the whole session."""
    with throwaway_postgres("tesserad-pg-") as server:
        yield server.url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database: a new SQLite file, or a new database on the session's server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tesserad.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def user_db_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a second empty database of db_url's kind, for SQL user stores: no resolver may
    read tesserad's own database."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'users.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated database on SQLite and on PostgreSQL."""
    database = Database(db_url)
    database.upgrade()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database alone, for tests of SQLite's own behaviour."""
    database = Database(f"sqlite:///{tmp_path / 'sqlite.db'}")
    database.upgrade()
    try:
        yield database
    finally:
        database.dispose()


from tests.wired import core  # noqa: E402,F401  (the wired-core fixture, shared by several folders)
