"""Which stored token owner is which user: the realm, the resolver and the user id.

A resolver may serve several realms, so a user id alone does not say whose a token is:
``bob`` of realm ``a`` and ``bob`` of realm ``b`` may be the same entry of the same store,
yet a token enrolled for ``bob@a`` logs in, lists and acts only as ``bob@a``. Every place
that asks "is this the user's token" goes through these two functions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, select

from tesserad.core.store.models import Realm, TokenOwner
from tesserad.core.users.base import User


def _realm_id(name: Any) -> Any:
    return select(Realm.id).where(Realm.name == name).scalar_subquery()


# For prepared statements: bind ``realm``, ``resolver`` and ``uid``.
OWNER_BY_PARAMS = and_(TokenOwner.realm_id == _realm_id(bindparam("realm")),
                       TokenOwner.resolver == bindparam("resolver"), TokenOwner.user_id == bindparam("uid"))


def owner_is(user: User) -> Any:
    """SQL: the token_owner row is ``user`` in ``user``'s realm."""
    return and_(TokenOwner.realm_id == _realm_id(user.realm.lower()), TokenOwner.resolver == user.resolver,
                TokenOwner.user_id == user.uid)


def owner_params(user: User) -> dict[str, str]:
    """The bind values of ``OWNER_BY_PARAMS`` for ``user``."""
    return {"realm": user.realm.lower(), "resolver": user.resolver, "uid": user.uid}


def owns(owners: list[TokenOwner], user: User) -> bool:
    """Whether ``user`` is one of a loaded token's ``owners`` (their realms loaded too)."""
    return user.exists and any(o.realm.name == user.realm.lower() and o.resolver == user.resolver
                               and o.user_id == user.uid for o in owners)
