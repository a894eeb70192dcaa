"""Store fixtures: a Database handle over the suite's fresh databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tesserad.core.store import Database


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def migrated(database: Database) -> Database:
    """A database upgraded to this version's schema."""
    database.upgrade()
    return database
