"""Channel kinds: what the outbox needs to know about a message's ``<kind>:<identifier>``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core import smtp_servers
from tesserad.core.errors import DeliveryError
from tesserad.core.security.base import SecurityModule
from tesserad.core.sms import fcm, gateways

# loader(session, security, identifier) -> the transport's settings for that definition.
Loader = Callable[[Session, SecurityModule, str], Any]
LOADERS: dict[str, Loader] = {"sms": gateways.loaded, smtp_servers.KIND: smtp_servers.delivery_settings,
                              fcm.KIND: fcm.loaded}


__all__ = ["LOADERS", "DeliveryError", "Loader", "load", "split"]


def split(channel: str) -> tuple[str, str]:
    """``"smtp:mail1"`` -> ``("smtp", "mail1")``."""
    kind, _, identifier = channel.partition(":")
    return kind, identifier


def load(session: Session, security: SecurityModule, channel: str) -> Any:
    kind, identifier = split(channel)
    loader = LOADERS.get(kind)
    if loader is None:
        raise DeliveryError(f"unknown channel kind {kind!r}", permanent=True)
    return loader(session, security, identifier)
