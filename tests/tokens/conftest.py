"""Token classes over a migrated database, with a fixed clock and a real key-file security
module. Tests run on SQLite; those marked ``both_backends`` (the ones about atomic
consumption) also run on a real PostgreSQL."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tesserad.core.clock import FixedClock
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.core.store import Database
from tesserad.core.store.models import Token
from tesserad.core.sysconfig import SystemSettings
from tesserad.core.tokens.base import TokenClass, TokenEnv
from tesserad.core.tokens.registry import token_class

from tests.pgserver import fresh_database

START = 1_700_000_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: also run on PostgreSQL (atomicity across sessions)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        backends: list[Any] = ["sqlite"]
        if metafunc.definition.get_closest_marker("both_backends"):
            backends.append(pytest.param("postgresql", marks=pytest.mark.postgresql))
        metafunc.parametrize("backend", backends)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating takes longer than a test)."""
    path = tmp_path_factory.mktemp("template") / "t.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    if backend == "sqlite":
        path = tmp_path / "t.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
        assert db.schema_state() == "current"
        yield db
        db.dispose()
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        db = Database(url)
        db.upgrade()
        yield db
        db.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def env(clock: FixedClock) -> TokenEnv:
    return TokenEnv(security=KeyFileSecurityModule(KeyMaterial.generate()),
                    hasher=SecretHasher(b"p" * 32, time_cost=1, memory_cost=1024, parallelism=1),
                    clock=clock, settings=SystemSettings(), extra={})


def new_row(serial: str, tokentype: str, settings: SystemSettings) -> Token:
    """A token row with the defaults the lifecycle service gives a new token."""
    return Token(serial=serial, tokentype=tokentype, otplen=settings.DefaultOtpLen,
                 count_window=settings.DefaultCountWindow, sync_window=settings.DefaultSyncWindow,
                 maxfail=settings.DefaultMaxFailCount, count=0, created_at=datetime.now(UTC), info=[])


def load(session: Session, env: TokenEnv, serial: str) -> TokenClass:
    """The token as a new request sees it: a fresh row from the database."""
    row = session.scalar(select(Token).where(Token.serial == serial).options(selectinload(Token.info)))
    assert row is not None, f"no token {serial}"
    return token_class(row.tokentype)(row, env)


Enroll = Callable[..., tuple[str, dict[str, Any]]]


@pytest.fixture
def enroll(database: Database, env: TokenEnv) -> Enroll:
    """Create and commit a token of ``tokentype`` from init parameters; returns (serial, detail).
    ``extra`` overrides the type-specific system settings for this enrollment."""
    numbers = iter(range(1, 1000))

    def do(tokentype: str, params: Mapping[str, Any] | None = None, *, serial: str | None = None,
           extra: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
        cls = token_class(tokentype)
        serial = serial or f"{cls.prefix}{next(numbers):08d}"
        token_env = dataclasses.replace(env, extra=dict(extra)) if extra is not None else env
        with database.session() as session:
            row = new_row(serial, cls.type, token_env.settings)
            session.add(row)
            detail = cls(row, token_env).enroll(dict(params or {}))
            session.commit()
        return serial, detail

    return do
