"""A wired core over a fresh database (SQLite and PostgreSQL): directory with a flat-file
realm, token service, engine and audit, with a clock the tests move by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tesserad.core.audit import Auditor
from tesserad.core.auth.engine import Engine
from tesserad.core.auth.policy import AuthSettings, StaticPolicies
from tesserad.core.auth.request import AuthRequest, AuthResult
from tesserad.core.auth.service import AuthService
from tesserad.core.clock import FixedClock
from tesserad.core.outbox import Outbox
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.security.keyfile import KeyFileSecurityModule, KeyMaterial
from tesserad.core.security.signing import Signer
from tesserad.core.store import Database
from tesserad.core.store.models import Token
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.tokens.service import TokenService
from tesserad.core.users.base import User
from tesserad.core.users.directory import Directory

PASSWD = """\
alice:x:1000:1000:Alice Liddell,,,:/home/alice:/bin/bash
bob:x:1001:1001:Bob Builder,,,:/home/bob:/bin/bash
carol:x:1002:1002:Carol Danvers,,,:/home/carol:/bin/bash
"""
RFC_SEED_HEX = b"12345678901234567890".hex()
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


@dataclass
class Core:
    database: Database
    clock: FixedClock
    sysconfig: SystemConfig
    directory: Directory
    tokens: TokenService
    policies: StaticPolicies
    auth: AuthService
    auditor: Auditor
    outbox: Outbox

    def check(self, password: str, user: str | None = "alice", **kwargs: object) -> AuthResult:
        return self.auth.authenticate(AuthRequest(password=password, user=user, **kwargs))  # type: ignore[arg-type]

    def user(self, login: str) -> User:
        with self.database.session() as session:
            return self.directory.resolve(session, login, None)

    def enroll(self, login: str | None, **params: object) -> str:
        with self.database.session() as session:
            user = self.directory.resolve(session, login, None) if login else None
            token, _ = self.tokens.init(session, params, user)
            session.commit()
            return token.serial

    def token(self, serial: str) -> Token:
        with self.database.session() as session:
            token = self.tokens.get(session, serial).row
            session.expunge_all()
            return token

    def token_info(self, serial: str, key: str) -> str | None:
        with self.database.session() as session:
            return self.tokens.get(session, serial).info(key)

    def settings(self, **values: object) -> None:
        self.policies.settings = replace(self.policies.settings, **values)  # type: ignore[arg-type]

    def system(self, **values: object) -> None:
        with self.database.session() as session:
            for key, value in values.items():
                self.sysconfig.set(session, key, value)
            session.commit()


@pytest.fixture
def core(db_url: str, tmp_path: Path) -> Iterator[Core]:
    database = Database(db_url)
    database.upgrade()
    passwd = tmp_path / "passwd"
    passwd.write_text(PASSWD)
    clock = FixedClock(1_700_000_000)
    security = KeyFileSecurityModule(KeyMaterial.generate())
    hasher = SecretHasher(b"p" * 32, time_cost=1, memory_cost=1024, parallelism=1)
    sysconfig = SystemConfig(clock, security)
    directory = Directory(security, clock, sysconfig)
    with database.session() as session:
        directory.save_resolver(session, "files", "passwdresolver", {"fileName": str(passwd)})
        directory.save_realm(session, "example", [("files", 1)])
        directory.set_default_realm(session, "example")
        session.commit()
    policies = StaticPolicies(AuthSettings())
    auditor = Auditor(Signer.generate(), clock, "test-node")
    outbox = Outbox(security, clock, auditor)
    engine = Engine(security=security, hasher=hasher, clock=clock, directory=directory,
                    sysconfig=sysconfig, policies=policies, outbox=outbox)
    yield Core(database, clock, sysconfig, directory, TokenService(security, hasher, clock, sysconfig),
               policies, AuthService(database, engine, auditor), auditor, outbox)
    database.dispose()
