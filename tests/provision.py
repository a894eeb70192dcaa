"""Provision a daemon's store from a test (or benchmark) before the daemon starts: the
management API comes with its own issue, and the core services are the same either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tesserad.core import admins
from tesserad.core.bootstrap import ensure_data_dir, ensure_keys, prepare_schema
from tesserad.core.context import Context
from tesserad.core.store.models import AuditEntry, Token
from tesserad.daemon import config as configuration

from tests.wired import PASSWD, RFC_SEED_HEX

# The people of tests.wired.PASSWD with an RFC 4226 HOTP token each; a policy turns carol's
# PIN alone into a challenge.
HOTP_PEOPLE: list[dict[str, Any]] = [
    {"user": "alice", "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "1234", "serial": "HOTP1"},
    {"user": "bob", "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "1234", "serial": "HOTP2"},
    {"user": "carol", "type": "hotp", "otpkey": RFC_SEED_HEX, "pin": "5678", "serial": "HOTP3"},
]
CAROL_CHALLENGES = {"carol-challenges": {"scope": "authentication", "action": "challenge_response=hotp",
                                         "user": "carol"}}


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
            _enroll(ctx, session, tokens)
    finally:
        ctx.close()


def add_realm(config_path: Path, realm: str, resolver: str, rtype: str, settings: dict[str, Any], *,
              default: bool = False, tokens: list[dict[str, Any]] | None = None) -> None:
    """A realm of one more resolver (an LDAP directory, say) in a provisioned store, the
    default realm if ``default``, with ``tokens`` as for ``provision``."""
    ctx = Context.open(configuration.load(str(config_path), env={}))
    try:
        with ctx.database.session() as session:
            ctx.directory.save_resolver(session, resolver, rtype, settings)
            ctx.directory.save_realm(session, realm, [(resolver, 1)])
            if default:
                ctx.directory.set_default_realm(session, realm)
            session.commit()
            _enroll(ctx, session, tokens or [])
    finally:
        ctx.close()


def _enroll(ctx: Context, session: Session, tokens: list[dict[str, Any]]) -> None:
    for spec in tokens:
        params = dict(spec)
        user = ctx.directory.resolve(session, params.pop("user"), None)
        assert user.exists, f"{user} is not in the store"
        ctx.tokens.init(session, params, user)
    session.commit()


def provision_hotp_people(config_path: Path, passwd: Path) -> None:
    """``provision`` with tests.wired's passwd file, HOTP_PEOPLE and CAROL_CHALLENGES."""
    passwd.write_text(PASSWD)
    provision(config_path, passwd, HOTP_PEOPLE, policies=CAROL_CHALLENGES)


def stored_token(config_path: Path, serial: str) -> Token:
    """A token row as a (running) daemon stored it, read through a context of its own."""
    ctx = Context.open(configuration.load(str(config_path), env={}))
    try:
        with ctx.database.session() as session:
            row = session.scalar(select(Token).where(Token.serial == serial))
            assert row is not None, serial
            session.expunge(row)
            return row
    finally:
        ctx.close()


def audit_rows(config_path: Path) -> list[AuditEntry]:
    """The audit trail as a (running) daemon wrote it, oldest first."""
    ctx = Context.open(configuration.load(str(config_path), env={}))
    try:
        with ctx.database.session() as session:
            rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
            session.expunge_all()
            return rows
    finally:
        ctx.close()


def add_admins(config_path: Path, passwords: dict[str, str]) -> None:
    """Local administrators with the given passwords, before the daemon starts."""
    ctx = Context.open(configuration.load(str(config_path), env={}))
    try:
        with ctx.database.session() as session:
            for name, password in passwords.items():
                admins.add(session, ctx.hasher, name, password)
            session.commit()
    finally:
        ctx.close()
