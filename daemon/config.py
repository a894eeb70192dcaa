"""The whole configuration: the core's sections and the edges', in one ``Config``, and where
the file is found.

The composition root owns this dataclass because it alone knows every edge; the core reads
it through ``core.config.CoreConfig`` and each edge through its own protocol. The order of
the fields is the order of the sections in error messages, ``config check`` and the README.
"""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tesserad.admin_web.config import WebSection
from tesserad.core import config as configuration
from tesserad.core.config import DatabaseSection, LogSection, OutboxSection, SecuritySection, ServerSection
from tesserad.daemon.sms.config import SmsSection
from tesserad.pam_module.config import PamSection
from tesserad.radius.config import RadiusSection

SYSTEM_CONFIG_PATH = Path("/etc/tesserad/tesserad.toml")
CONFIG_ENV = "TESSERAD_CONFIG"


@dataclass(frozen=True)
class Config:
    """The whole, validated configuration; ``source`` says where it came from."""

    server: ServerSection = field(default_factory=ServerSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    web: WebSection = field(default_factory=WebSection)
    radius: RadiusSection = field(default_factory=RadiusSection)
    pam: PamSection = field(default_factory=PamSection)
    log: LogSection = field(default_factory=LogSection)
    security: SecuritySection = field(default_factory=SecuritySection)
    outbox: OutboxSection = field(default_factory=OutboxSection)
    sms: SmsSection = field(default_factory=SmsSection)
    source: str = field(default="<embedded default>", compare=False)

    @property
    def data_dir(self) -> Path:
        return Path(self.server.data_dir)

    @property
    def key_dir(self) -> Path:
        return Path(self.security.key_dir)


def locate(cli_path: str | None, env: typing.Mapping[str, str]) -> Path | None:
    """The config file to read: --config, else $TESSERAD_CONFIG, else /etc/tesserad/tesserad.toml
    if it exists, else None for the embedded default."""
    if cli_path:
        return Path(cli_path)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return SYSTEM_CONFIG_PATH if SYSTEM_CONFIG_PATH.exists() else None


def load(cli_path: str | None = None, *, env: typing.Mapping[str, str] | None = None,
         cwd: Path | None = None) -> Config:
    """Find, read and validate the configuration; raise ConfigError on any problem."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    return configuration.build(Config, locate(cli_path, env), env=env, cwd=cwd)


def parse(text: str, source: str) -> Config:
    """Validate TOML text against the schema (no defaults resolved yet)."""
    return configuration.parse(Config, text, source)


def documentation() -> list[tuple[str, Any, str]]:
    """(dotted key, default, doc) for every setting: the reference the README is written from."""
    return configuration.documentation(Config)
