"""The core's collaborators, built once per process and handed to every service.

Like Synapse's HomeServer, but explicit: the daemon and ``tesserad-manage`` both build
a Context from a Config, and the core functions take what they need from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tesserad.core.clock import Clock, SystemClock
from tesserad.core.config import Config
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.security.keystore import Keys, KeyStore
from tesserad.core.store import Database


@dataclass
class Context:
    config: Config
    database: Database
    keys: Keys
    hasher: SecretHasher
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def open(cls, config: Config, *, clock: Clock | None = None) -> "Context":
        """Load the keys and connect the database (no schema change, no file created
        except the SQLite file itself)."""
        keys = KeyStore(config.key_dir).load()
        sec = config.security
        hasher = SecretHasher(keys.pepper, time_cost=sec.argon2_time_cost,
                              memory_cost=sec.argon2_memory_cost, parallelism=sec.argon2_parallelism)
        return cls(config, Database(config.database.url), keys, hasher, clock or SystemClock())

    def close(self) -> None:
        self.database.dispose()
