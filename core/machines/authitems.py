"""``GET /machine/authitem``: what a machine fetches for the tokens attached to it.

Per application: ``luks`` answers a challenge (32 random bytes unless the machine sends
one) with the token's HMAC-SHA1 response and the attachment's slot and partition, so the
machine can unlock a disk; ``ssh`` (keys of sshkey tokens) has nothing to give until that
token type exists; ``offline`` has nothing here either: its hashes need the user's PIN and
come with a successful /validate/check. Disabled tokens give nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from tesserad.core.machines.service import APPLICATIONS, NUMERIC_OPTIONS, application, list_attachments
from tesserad.core.tokens.base import ParameterError, TokenClass

CHALLENGE_BYTES = 32


def _luks(token: TokenClass, options: dict[str, str], challenge: str | None) -> dict[str, Any]:
    try:
        data = bytes.fromhex(challenge) if challenge else secrets.token_bytes(CHALLENGE_BYTES)
    except ValueError:
        raise ParameterError("challenge must be hexadecimal") from None
    return {"slot": options.get("slot", ""), "partition": options.get("partition", ""),
            "challenge": data.hex(), "response": hmac.new(token.secret(), data, hashlib.sha1).hexdigest()}


# Applications that give items here; the others answer an empty list.
_BUILDERS: dict[str, Callable[[TokenClass, dict[str, str], str | None], dict[str, Any]]] = {"luks": _luks}


def authentication_items(session: Session, load: Callable[[str], TokenClass], hostname: str,
                         app_name: str | None = None, challenge: str | None = None,
                         tokens: Select[Any] | None = None) -> dict[str, list[Any]]:
    """The items of ``hostname``'s attachments (and those for every machine), per
    application; with ``tokens`` (a subquery of token ids) only those tokens' items."""
    names = [application(app_name).name] if app_name else list(APPLICATIONS)
    items: dict[str, list[Any]] = {name: [] for name in names}
    for attached in list_attachments(session, hostname=hostname, tokens=tokens):
        build = _BUILDERS.get(attached["application"])
        if build is None or attached["application"] not in items:
            continue
        token = load(attached["serial"])
        if token.row.active:
            items[attached["application"]].append(build(token, attached["options"], challenge))
    return items


def applications() -> dict[str, Any]:
    """``GET /application/``: every application with its options and their types."""
    return {app.name: {"options": {key: {"type": "int" if key in NUMERIC_OPTIONS else "str"}
                                   for key in app.options}} for app in APPLICATIONS.values()}
