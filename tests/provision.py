"""Provision a daemon's store from a test (or benchmark) before the daemon starts: the
management API comes with its own issue, and the core services are the same either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tesserad.core import config as configuration
from tesserad.core.bootstrap import ensure_data_dir, ensure_keys, prepare_schema
from tesserad.core.context import Context


def provision(config_path: Path, passwd: Path, tokens: list[dict[str, Any]],
              system: dict[str, Any] | None = None, policies: dict[str, dict[str, Any]] | None = None) -> None:
    """Create keys and schema, a flat-file realm ``example`` (default) over ``passwd``,
    the given tokens (each dict: ``user`` plus /token/init parameters), system settings
    and policies (name -> attributes)."""
    config = configuration.load(str(config_path), env={})
    ensure_data_dir(config.data_dir)
    ensure_keys(config.key_dir)
    ctx = Context.open(config)
    try:
        prepare_schema(ctx.database, auto_upgrade=True)
        with ctx.database.session() as session:
            ctx.directory.save_resolver(session, "files", "passwdresolver", {"fileName": str(passwd)})
            ctx.directory.save_realm(session, "example", [("files", 1)])
            ctx.directory.set_default_realm(session, "example")
            for key, value in (system or {}).items():
                ctx.sysconfig.set(session, key, value)
            for name, fields in (policies or {}).items():
                ctx.policies.set_policy(session, name, **fields)
            session.commit()
            for spec in tokens:
                params = dict(spec)
                user = ctx.directory.resolve(session, params.pop("user"), None)
                ctx.tokens.init(session, params, user)
            session.commit()
    finally:
        ctx.close()
