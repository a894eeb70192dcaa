"""SMTP server definitions (privacyIDEA's ``/smtpserver/``): the mail servers that email
tokens, SMS-over-SMTP gateways and notifications send through, by identifier.

A definition belongs to no realm. Its password is stored encrypted by the security module
and never leaves the core: listings leave it out. Mail is never sent from here: it goes
through the outbox (channel ``smtp:<identifier>``), whose sender delivers it on the
reactor; ``delivery_settings`` is the outbox loader that hands the sender a definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tesserad.core.errors import DeliveryError
from tesserad.core.security.base import SecurityModule
from tesserad.core.store.models import SMTPServer
from tesserad.core.store.models.base import NAME_LENGTH
from tesserad.core.tokens.base import ParameterError, TokenError

KIND = "smtp"
# One address, no display name: nothing that could add a header or a second recipient.
_ADDRESS = re.compile(r"[^\s@<>,;:\"'()\[\]\\]+@[^\s@<>,;:\"'()\[\]\\]+")
_HOST = re.compile(r"[A-Za-z0-9.\-:\[\]]+")


class SMTPServerNotFound(TokenError):
    """No SMTP server definition has this identifier (privacyIDEA ResourceNotFound, 601)."""


@dataclass(frozen=True)
class SMTPSettings:
    """A definition as the ESMTP transport needs it, the password decrypted."""

    server: str
    port: int
    sender: str
    username: str
    password: str = field(repr=False)
    tls: bool
    implicit_tls: bool
    timeout: int


def check_address(name: str, value: str) -> str:
    """``value`` if it is one plain email address, else a ParameterError naming ``name``."""
    if len(value) > NAME_LENGTH or not _ADDRESS.fullmatch(value):
        raise ParameterError(f"parameter {name} must be one email address like user@example.org")
    return value


def check_host(value: str) -> str:
    if len(value) > NAME_LENGTH or not _HOST.fullmatch(value):
        raise ParameterError("parameter server must be a host name or an IP address")
    return value


def channel(identifier: str) -> str:
    return f"{KIND}:{identifier}"


def _context(identifier: str) -> bytes:
    return f"smtpserver:{identifier}".encode()


def _checked(identifier: str) -> str:
    if not identifier or not identifier.strip():
        raise ParameterError("missing parameter: identifier")
    if len(identifier) > NAME_LENGTH:
        raise ParameterError(f"an SMTP server identifier has at most {NAME_LENGTH} characters")
    return identifier


def _row(session: Session, identifier: str) -> SMTPServer | None:
    return session.scalars(select(SMTPServer).where(SMTPServer.name == identifier)).first()


def listed(session: Session) -> dict[str, dict[str, Any]]:
    """``{identifier: {server, port, sender, username, tls, implicit_tls, timeout,
    enqueue_job, description}}``, without the password."""
    return {row.name: {"server": row.server, "port": row.port, "sender": row.sender, "username": row.username,
                       "tls": row.tls, "implicit_tls": row.implicit_tls, "timeout": row.timeout,
                       "enqueue_job": row.enqueue_job, "description": row.description}
            for row in session.scalars(select(SMTPServer).order_by(SMTPServer.name))}


def exists(session: Session, identifier: str) -> bool:
    return _row(session, identifier) is not None


def save(session: Session, security: SecurityModule, identifier: str, *, server: str, port: int, sender: str,
         username: str, password: str | None, tls: bool, implicit_tls: bool, timeout: int, enqueue_job: bool,
         description: str) -> int:
    """Define ``identifier`` or replace its settings (a None ``password`` keeps the stored
    one, an empty one removes it); its id."""
    identifier = _checked(identifier)
    if tls and implicit_tls:
        raise ParameterError("tls (STARTTLS) and implicit_tls exclude each other")
    row = _row(session, identifier)
    if row is None:
        row = SMTPServer(name=identifier)
        session.add(row)
    if password is not None:
        row.password_enc = security.encrypt(password.encode(), context=_context(identifier)) if password else None
    row.server, row.port, row.sender, row.username = check_host(server), port, check_address("sender", sender), username
    row.tls, row.implicit_tls, row.timeout, row.enqueue_job = tls, implicit_tls, timeout, enqueue_job
    row.description = description
    session.flush()
    return row.id


def delete(session: Session, identifier: str) -> None:
    row = _row(session, _checked(identifier))
    if row is None:
        raise SMTPServerNotFound(f"The SMTP server {identifier!r} does not exist")
    session.delete(row)


def require(session: Session, identifier: str) -> str:
    """``identifier`` if it is defined, else SMTPServerNotFound."""
    if _row(session, identifier) is None:
        raise SMTPServerNotFound(f"The SMTP server {identifier!r} does not exist")
    return identifier


def delivery_settings(session: Session, security: SecurityModule, identifier: str) -> SMTPSettings:
    """The outbox loader of channel kind ``smtp``."""
    row = _row(session, identifier)
    if row is None:
        raise DeliveryError(f"the SMTP server {identifier!r} does not exist", permanent=True)
    password = security.decrypt(row.password_enc, context=_context(identifier)).decode() if row.password_enc else ""
    return SMTPSettings(row.server, row.port, row.sender, row.username, password, row.tls, row.implicit_tls,
                        row.timeout)
