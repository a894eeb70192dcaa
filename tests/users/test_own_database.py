"""Which URLs reach the same database (``own_database``): the guard that keeps resolvers
away from tesserad's own database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tesserad.core.users.own_database import same_database


def test_sqlite_files_by_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "tesserad.db"
    db.write_bytes(b"")
    os.symlink(db, tmp_path / "soft.db")
    os.link(db, tmp_path / "hard.db")
    (tmp_path / "copy.db").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    own = make_url(f"sqlite:///{db}")
    for other in (f"sqlite:///{tmp_path}/soft.db", f"sqlite:///{tmp_path}/hard.db", "sqlite:///tesserad.db",
                  f"sqlite+pysqlite:///{tmp_path}/./tesserad.db", f"sqlite:///file:{db}?mode=ro&uri=true"):
        assert same_database(make_url(other), own), other
    for other in (f"sqlite:///{tmp_path}/copy.db", "sqlite://", "sqlite:///:memory:",
                  "postgresql+psycopg://localhost/tesserad"):
        assert not same_database(make_url(other), own), other
    # a file that does not exist yet is compared by where it would be
    assert same_database(make_url("sqlite:///later.db"), make_url(f"sqlite:///{tmp_path}/later.db"))


def test_servers_by_database_name_whatever_the_way_there() -> None:
    own = make_url("postgresql+psycopg://tesserad:pw@db.internal:5432/tesserad")
    for other in ("postgresql://x@127.0.0.1:6432/tesserad", "postgresql+psycopg2://localhost/TESSERAD",
                  "postgresql+psycopg:///tesserad?host=/run/postgresql"):
        assert same_database(make_url(other), own), other
    assert not same_database(make_url("postgresql://db.internal/users"), own)
    assert same_database(make_url("mariadb+pymysql://h/tesserad"), make_url("mysql+pymysql://other/tesserad"))
    assert not same_database(make_url("mysql+pymysql://h/tesserad"), own)
