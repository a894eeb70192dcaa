"""privacyIDEA's message tags: ``{otp}`` (or ``<otp>``), ``{serial}`` (or ``<serial>``),
``{user}``/``{givenname}``, ``{surname}``, ``{username}``, ``{userrealm}``, ``{tokentype}``,
``{recipient_givenname}``, ``{recipient_surname}``, ``{time}`` (HH:MM:SS) and ``{date}``
(YYYY-MM-DD). Only these are replaced: any other brace (CSS in an HTML template) stays."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

_TAG = re.compile(r"\{(\w+)\}|<(otp|serial)>")


def owner_tags(info: Mapping[str, Any], realm: str, now: datetime) -> dict[str, str]:
    """The tags that describe the token owner (also the recipient) and the time."""
    given, surname = str(info.get("givenname") or ""), str(info.get("surname") or "")
    return {"user": given, "givenname": given, "surname": surname, "username": str(info.get("username") or ""),
            "userrealm": realm, "recipient_givenname": given, "recipient_surname": surname,
            "time": now.strftime("%H:%M:%S"), "date": now.strftime("%Y-%m-%d")}


def render(template: str, tags: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return tags.get(name, match.group(0))
    return _TAG.sub(replace, template)
