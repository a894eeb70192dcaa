"""RADIUS server definitions (privacyIDEA's ``/radiusserver/``): upstream servers that
``passthru=<identifier>`` forwards the logins of users without tokens to.

A definition is a system-wide object (it belongs to no realm). Its shared secret is stored
encrypted by the security module and never leaves the core: listings leave it out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tesserad.core.radius_client import Upstream
from tesserad.core.security.base import SecurityModule
from tesserad.core.store.models import RadiusServer
from tesserad.core.store.models.base import NAME_LENGTH
from tesserad.core.tokens.base import ParameterError, TokenError


class RadiusServerNotFound(TokenError):
    """No RADIUS server definition has this identifier (privacyIDEA ResourceNotFound, 601)."""


def _context(identifier: str) -> bytes:
    return f"radiusserver:{identifier}".encode()


def _checked(identifier: str) -> str:
    if not identifier or not identifier.strip():
        raise ParameterError("missing parameter: identifier")
    if len(identifier) > NAME_LENGTH:
        raise ParameterError(f"a RADIUS server identifier has at most {NAME_LENGTH} characters")
    return identifier


def _row(session: Session, identifier: str) -> RadiusServer | None:
    return session.scalars(select(RadiusServer).where(RadiusServer.name == identifier)).first()


def listed(session: Session) -> dict[str, dict[str, Any]]:
    """``{identifier: {server, port, description, timeout, retries}}``, without the secret."""
    return {row.name: {"server": row.server, "port": row.port, "description": row.description,
                       "timeout": row.timeout, "retries": row.retries}
            for row in session.scalars(select(RadiusServer).order_by(RadiusServer.name))}


def exists(session: Session, identifier: str) -> bool:
    return _row(session, identifier) is not None


def save(session: Session, security: SecurityModule, identifier: str, *, server: str, port: int,
         secret: str | None, description: str, timeout: int, retries: int) -> int:
    """Define ``identifier`` or replace its settings (a None ``secret`` keeps the stored one); its id."""
    identifier = _checked(identifier)
    row = _row(session, identifier)
    if row is None:
        if not secret:
            raise ParameterError("missing parameter: secret")
        row = RadiusServer(name=identifier)
        session.add(row)
    if secret:
        row.secret_enc = security.encrypt(secret.encode(), context=_context(identifier))
    row.server, row.port, row.description, row.timeout, row.retries = server, port, description, timeout, retries
    session.flush()
    return row.id


def delete(session: Session, identifier: str) -> None:
    row = _row(session, _checked(identifier))
    if row is None:
        raise RadiusServerNotFound(f"The RADIUS server {identifier!r} does not exist")
    session.delete(row)


def upstream(session: Session, security: SecurityModule, identifier: str) -> Upstream:
    """The definition ``identifier`` ready to be asked, its secret decrypted."""
    row = _row(session, identifier)
    if row is None:
        raise RadiusServerNotFound(f"The RADIUS server {identifier!r} of the passthru policy does not exist")
    secret = security.decrypt(row.secret_enc, context=_context(identifier))
    return Upstream(row.server, row.port, secret, row.timeout, row.retries)
