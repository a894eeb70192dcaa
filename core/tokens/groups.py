"""Token group definitions (privacyIDEA's ``/tokengroup/``): named groups that tokens join
with ``/token/group/...`` and that policies and event handlers can address.

A group is a system-wide object (it belongs to no realm). A group that still holds tokens
cannot be deleted: the tokens would silently leave it, and whatever addresses the group
would change meaning.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tesserad.core.store.models import TokenGroup, TokenGroupMember
from tesserad.core.store.models.base import NAME_LENGTH
from tesserad.core.tokens.base import ParameterError, TokenError


class TokenGroupNotFound(TokenError):
    """No token group has this name (privacyIDEA ResourceNotFound, 601)."""


def _checked(name: str) -> str:
    if not name or not name.strip():
        raise ParameterError("missing parameter: groupname")
    if len(name) > NAME_LENGTH:
        raise ParameterError(f"a token group name has at most {NAME_LENGTH} characters")
    return name


def listed(session: Session, name: str | None = None) -> dict[str, dict[str, Any]]:
    """``{name: {"id", "description"}}`` of every group, or of the one named ``name``."""
    query = select(TokenGroup).order_by(TokenGroup.name)
    if name:
        query = query.where(TokenGroup.name == name)
    return {group.name: {"id": group.id, "description": group.description} for group in session.scalars(query)}


def save(session: Session, name: str, description: str | None) -> int:
    """Define the group ``name``, or change its description (None keeps it); its id."""
    name = _checked(name)
    if description is not None and len(description) > NAME_LENGTH:
        raise ParameterError(f"a token group description has at most {NAME_LENGTH} characters")
    group = session.scalars(select(TokenGroup).where(TokenGroup.name == name)).first()
    if group is None:
        group = TokenGroup(name=name, description=description or "")
        session.add(group)
    elif description is not None:
        group.description = description
    session.flush()
    return group.id


def delete(session: Session, name: str) -> None:
    """Delete the group ``name``; refused while tokens are in it."""
    group = session.scalars(select(TokenGroup).where(TokenGroup.name == _checked(name))).first()
    if group is None:
        raise TokenGroupNotFound(f"The token group {name!r} does not exist")
    members = session.scalar(select(func.count()).select_from(TokenGroupMember)
                             .where(TokenGroupMember.group_id == group.id))
    if members:
        raise ParameterError(f"The token group {name!r} still holds {members} token(s); "
                             "take them out of the group first")
    session.delete(group)
