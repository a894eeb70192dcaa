"""SMS gateway definitions (privacyIDEA's ``/smsgateway``): an identifier, a provider
module, a description, ``option.*`` values (the provider's parameters and, for HTTP, free
request parameters) and ``header.*`` values.

Secrets (the provider's secret parameters and options or headers whose name says
credential, see ``providers.base.SECRET_NAME``) are stored encrypted by the security module
and listed as ``__CENSORED__``; posting ``__CENSORED__`` back keeps the stored value.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tesserad.core import smtp_servers
from tesserad.core.errors import DeliveryError
from tesserad.core.security.base import SecurityModule
from tesserad.core.sms.delivery import Delivery
from tesserad.core.sms.providers import PROVIDERS, provider
from tesserad.core.sms.providers.base import GatewayConfig
from tesserad.core.sms.providers.smtp import SmtpProvider
from tesserad.core.store.models import SMSGateway, SMSGatewayOption
from tesserad.core.store.models.base import NAME_LENGTH
from tesserad.core.tokens.base import ParameterError, TokenError

CENSORED = "__CENSORED__"
PASSWORD = "password"
_PHONE = re.compile(r"\+?[0-9][0-9 ()/.-]{2,30}")
_MAX_VALUE = 4000


class SMSGatewayNotFound(TokenError):
    """No SMS gateway definition has this identifier or id (privacyIDEA ResourceNotFound, 601)."""


def _context(identifier: str, kind: str, key: str) -> bytes:
    return f"smsgateway:{identifier}:{kind}:{key}".encode()


def _row(session: Session, identifier: str) -> SMSGateway | None:
    return session.scalars(select(SMSGateway).where(SMSGateway.name == identifier)).first()


def _checked(identifier: str) -> str:
    if not identifier or not identifier.strip():
        raise ParameterError("missing parameter: name")
    if len(identifier) > NAME_LENGTH:
        raise ParameterError(f"an SMS gateway identifier has at most {NAME_LENGTH} characters")
    return identifier


def _stored(row: SMSGateway, security: SecurityModule, kind: str) -> dict[str, str]:
    return {o.key: (security.decrypt(base64.b64decode(o.value), context=_context(row.name, kind, o.key)).decode()
                    if o.type == PASSWORD else o.value)
            for o in row.options if o.kind == kind}


def _shown(row: SMSGateway, kind: str) -> dict[str, str]:
    return {o.key: CENSORED if o.type == PASSWORD else o.value for o in sorted(row.options, key=lambda o: o.key)
            if o.kind == kind}


def listed(session: Session, gateway_id: int | None = None) -> list[dict[str, Any]]:
    """privacyIDEA's list of definitions, secrets censored; one id narrows it to that one."""
    query = select(SMSGateway).order_by(SMSGateway.name)
    if gateway_id is not None:
        query = query.where(SMSGateway.id == gateway_id)
    return [{"id": row.id, "name": row.name, "providermodule": row.providermodule,
             "description": row.description, "options": _shown(row, "option"), "headers": _shown(row, "header")}
            for row in session.scalars(query)]


def providers() -> dict[str, Any]:
    return {module: p.shown() for module, p in PROVIDERS.items()}


def save(session: Session, security: SecurityModule, identifier: str, *, module: str, description: str,
         options: Mapping[str, str], headers: Mapping[str, str]) -> int:
    """Define ``identifier`` or replace its module, description, options and headers; its id."""
    identifier = _checked(identifier)
    chosen = provider(module)
    for key, value in (*options.items(), *headers.items()):
        if len(key) > NAME_LENGTH or len(value) > _MAX_VALUE:
            raise ParameterError(f"an option or header name has at most {NAME_LENGTH} characters, "
                                 f"a value at most {_MAX_VALUE}")
    row = _row(session, identifier)
    given = {"option": dict(options), "header": dict(headers)}
    if row is not None:  # __CENSORED__ keeps what is stored
        for kind, values in given.items():
            kept = _stored(row, security, kind)
            for key, value in values.items():
                if value == CENSORED and key in kept:
                    values[key] = kept[key]
    if any(CENSORED in values.values() for values in given.values()):
        raise ParameterError(f"{CENSORED} stands only for a value stored before")
    chosen.check(given["option"], given["header"])
    mail_server = given["option"].get("SMTPIDENTIFIED", "")
    if module == SmtpProvider.module and not smtp_servers.exists(session, mail_server):
        raise ParameterError(f"option.SMTPIDENTIFIED: the SMTP server {mail_server[:NAME_LENGTH]!r} does not exist")
    if row is None:
        row = SMSGateway(name=identifier)
        session.add(row)
    row.providermodule, row.description = module, description
    row.options.clear()
    session.flush()
    for kind, values in given.items():
        for key, value in values.items():
            secret = chosen.is_secret(kind, key)
            stored = (base64.b64encode(security.encrypt(value.encode(), context=_context(identifier, kind, key)))
                      .decode("ascii") if secret else value)
            row.options.append(SMSGatewayOption(key=key, value=stored, type=PASSWORD if secret else "", kind=kind))
    session.flush()
    return row.id


def delete(session: Session, identifier: str) -> None:
    row = _row(session, _checked(identifier))
    if row is None:
        raise SMSGatewayNotFound(f"The SMS gateway {identifier!r} does not exist")
    session.delete(row)


def delete_option(session: Session, gateway_id: int, key: str) -> None:
    """Remove one ``option.<key>``; the rest of the definition must still be valid."""
    row = session.get(SMSGateway, gateway_id)
    if row is None:
        raise SMSGatewayNotFound(f"The SMS gateway with id {gateway_id} does not exist")
    option = next((o for o in row.options if o.kind == "option" and o.key == key), None)
    if option is None:
        raise SMSGatewayNotFound(f"The SMS gateway {row.name!r} has no option {key[:NAME_LENGTH]!r}")
    remaining = {o.key: o.value for o in row.options if o.kind == "option" and o is not option}
    provider(row.providermodule).check(remaining, {o.key: o.value for o in row.options if o.kind == "header"})
    row.options.remove(option)
    session.flush()


def exists(session: Session, identifier: str) -> bool:
    return _row(session, identifier) is not None


def module_of(session: Session, identifier: str) -> str | None:
    """The provider module of ``identifier``; None when no such definition exists."""
    row = _row(session, identifier)
    return row.providermodule if row is not None else None


def config(session: Session, security: SecurityModule, identifier: str) -> GatewayConfig:
    """The definition ``identifier`` with its secrets decrypted."""
    row = _row(session, identifier)
    if row is None:
        raise SMSGatewayNotFound(f"The SMS gateway {identifier!r} does not exist")
    return GatewayConfig(row.name, row.providermodule, _stored(row, security, "option"),
                         _stored(row, security, "header"))


def delivery(gateway: GatewayConfig, phone: str, message: str) -> Delivery:
    """What sending ``message`` to ``phone`` through ``gateway`` takes."""
    return provider(gateway.module).delivery(gateway, checked_phone(phone), message)


def checked_phone(phone: str) -> str:
    if not _PHONE.fullmatch(phone):
        raise ParameterError("the phone number may hold only digits, a leading + and ( ) / . - or blanks")
    return phone


def loaded(session: Session, security: SecurityModule, identifier: str) -> GatewayConfig:
    """The outbox's loader of channel kind ``sms``: a gateway that is gone fails for good."""
    try:
        gateway = config(session, security, identifier)
    except SMSGatewayNotFound as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    if gateway.module == SmtpProvider.module:
        mail_server = smtp_servers.delivery_settings(session, security, gateway.options.get("SMTPIDENTIFIED", ""))
        gateway = dataclasses.replace(gateway, smtp=mail_server)
    return gateway
