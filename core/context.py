"""The core's collaborators, built once per process and handed to every service.

Like Synapse's HomeServer, but explicit: the daemon and ``tesserad-manage`` both build
a Context from a Config, and the edges take what they need from it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from tesserad.core.audit import Auditor
from tesserad.core.auth.engine import Engine
from tesserad.core.auth.policy import AuthPolicies
from tesserad.core.auth.service import AuthService
from tesserad.core.clock import Clock, SystemClock
from tesserad.core.config import CoreConfig
from tesserad.core.outbox import Outbox, OutboxSettings
from tesserad.core.policy.auth import PolicyAuthPolicies
from tesserad.core.policy.store import PolicyStore
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.security.keystore import Keys, KeyStore
from tesserad.core.store import Database
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.tokens.service import TokenService
from tesserad.core.users.directory import Directory


@dataclass
class Context:
    config: CoreConfig
    database: Database
    keys: Keys
    hasher: SecretHasher
    clock: Clock
    sysconfig: SystemConfig
    directory: Directory
    tokens: TokenService
    policies: PolicyStore
    auditor: Auditor
    engine: Engine
    auth: AuthService
    outbox: Outbox

    @classmethod
    def open(cls, config: CoreConfig, *, clock: Clock | None = None,
             policies: AuthPolicies | None = None) -> Context:
        """Load the keys, connect the database (no schema change) and wire the services;
        ``policies`` replaces the policy store as the engine's source of settings (tests)."""
        clock = clock or SystemClock()
        keys = KeyStore(config.key_dir).load()
        sec = config.security
        hasher = SecretHasher(keys.pepper, time_cost=sec.argon2_time_cost,
                              memory_cost=sec.argon2_memory_cost, parallelism=sec.argon2_parallelism)
        database = Database(config.database.url, sqlite_synchronous=config.database.sqlite_synchronous)
        sysconfig = SystemConfig(clock, keys.security)
        directory = Directory(keys.security, clock, sysconfig)
        node = socket.gethostname()
        store = PolicyStore(clock)
        tokens = TokenService(keys.security, hasher, clock, sysconfig)
        auditor = Auditor(keys.audit_signer, clock, node)
        box = config.outbox
        outbox = Outbox(keys.security, clock, auditor,
                        OutboxSettings(box.max_attempts, tuple(box.retry_delays), box.lease_seconds))
        engine = Engine(security=keys.security, hasher=hasher, clock=clock, directory=directory,
                        sysconfig=sysconfig,
                        policies=policies or PolicyAuthPolicies(store, node, directory=directory), tokens=tokens,
                        outbox=outbox)
        return cls(config, database, keys, hasher, clock, sysconfig, directory, tokens, store, auditor, engine,
                   AuthService(database, engine, auditor), outbox)

    def close(self) -> None:
        self.database.dispose()
