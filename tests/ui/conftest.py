"""Fixtures of the web UI tests: the in-memory site with its people, on SQLite only (the UI
adds no SQL of its own; the REST API's tests run on both databases)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http.people import people  # noqa: F401  (a fixture)
from tests.http.restapi import api  # noqa: F401  (a fixture)


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'tesserad.db'}"
