"""Custom user attributes (privacyIDEA 3.6+): attributes tesserad stores for a user of any
store, merged over the store's own attributes wherever the user's info is read (``GET
/user/``, policy ``userinfo`` conditions, authentication responses).

Who may set or delete which attribute is the value of the admin and user actions
``set_custom_user_attributes`` (``:department: sales finance :city: * :*: 1 2``: a key in
colons followed by its allowed values, ``*`` for any key or any value) and
``delete_custom_user_attributes`` (``attr1 attr2`` or ``*``). Without such a policy nothing
may be set or deleted, also while no policy of the scope exists (the spec's rule).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tesserad.core.store.models import CustomUserAttribute
from tesserad.core.store.models.base import TYPE_LENGTH
from tesserad.core.tokens.base import ParameterError
from tesserad.core.users.base import User, UserError

if TYPE_CHECKING:  # core.rights reads users through the directory, which imports this module
    from tesserad.core.rights import Rights, Target

ANY = "*"
KEY_LENGTH = 128
_KEY_AND_VALUES = re.compile(r":([^:\s]+):([^:]*)")


@dataclass(frozen=True)
class Editable:
    """What the caller may do with a user's custom attributes (``GET /user/editable_attributes/``)."""

    settable: dict[str, list[str]] = field(default_factory=dict)
    deletable: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, set_values: Iterable[str], delete_values: Iterable[str]) -> Editable:
        """From the values of every matching policy (they add up)."""
        settable: dict[str, list[str]] = {}
        for value in set_values:
            for key, values in _KEY_AND_VALUES.findall(value):
                known = settable.setdefault(key, [])
                known.extend(v for v in values.split() if v not in known)
        deletable = list(dict.fromkeys(word for value in delete_values for word in value.split()))
        return cls(settable, deletable)

    def may_set(self, key: str, value: str) -> bool:
        allowed = self.settable.get(key, self.settable.get(ANY, []))
        return value in allowed or ANY in allowed

    def may_delete(self, key: str) -> bool:
        return key in self.deletable or ANY in self.deletable

    def as_value(self) -> dict[str, Any]:
        return {"delete": self.deletable, "set": self.settable}


def editable(rights: Rights, target: Target | None) -> Editable:
    """What the caller of ``rights`` may do with custom attributes: an admin on the user
    ``target`` per the admin policies matching it, a user (target None) on themselves."""
    return Editable.of(rights.words("set_custom_user_attributes", target, whole=True),
                       rights.words("delete_custom_user_attributes", target))


def _of(realm_id: int, user: User) -> Any:
    return (CustomUserAttribute.realm_id == realm_id, CustomUserAttribute.resolver == user.resolver,
            CustomUserAttribute.user_id == user.uid)


def of_user(session: Session, realm_id: int, user: User) -> dict[str, str]:
    """The custom attributes of ``user`` in the realm ``realm_id``."""
    rows = session.execute(select(CustomUserAttribute.key, CustomUserAttribute.value).where(*_of(realm_id, user))
                           .order_by(CustomUserAttribute.key))
    return {key: value for key, value in rows}


def merged(session: Session, realm_ids: list[int], users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``users`` (listed from the realms ``realm_ids``, each with ``resolver`` and ``userid``)
    with their custom attributes merged over the store's; where a user has some in several
    of the realms, the first realm's (listings show each user once)."""
    rank = {realm_id: place for place, realm_id in enumerate(realm_ids)}
    rows = session.execute(select(CustomUserAttribute.realm_id, CustomUserAttribute.resolver,
                                  CustomUserAttribute.user_id, CustomUserAttribute.key, CustomUserAttribute.value)
                           .where(CustomUserAttribute.realm_id.in_(realm_ids)))
    first: dict[tuple[str, str], int] = {}
    found: dict[tuple[str, str], dict[str, str]] = {}
    for realm_id, resolver, uid, key, value in sorted(rows, key=lambda row: rank[row[0]]):
        if first.setdefault((resolver, uid), realm_id) == realm_id:
            found.setdefault((resolver, uid), {})[key] = value
    return [{**user, **found.get((user["resolver"], user["userid"]), {})} for user in users]


def save(session: Session, realm_id: int, user: User, key: str, value: str, type_: str = "") -> int:
    """Set the attribute ``key`` of ``user`` (replacing its value); the row's id."""
    if not user.exists:
        raise UserError(f"User {user} does not exist")
    if not key or len(key) > KEY_LENGTH:
        raise ParameterError(f"parameter key must have 1 to {KEY_LENGTH} characters")
    if len(type_) > TYPE_LENGTH:
        raise ParameterError(f"parameter type has at most {TYPE_LENGTH} characters")
    row = session.scalars(select(CustomUserAttribute).where(*_of(realm_id, user),
                                                            CustomUserAttribute.key == key)).first()
    if row is None:
        row = CustomUserAttribute(realm_id=realm_id, resolver=user.resolver, user_id=user.uid, key=key)
        session.add(row)
    row.value, row.type = value, type_
    session.flush()
    return row.id


def remove(session: Session, realm_id: int, user: User, key: str) -> int:
    """Delete the attribute ``key`` of ``user``; how many were deleted (0 or 1)."""
    result = session.execute(delete(CustomUserAttribute).where(*_of(realm_id, user), CustomUserAttribute.key == key))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
