"""Realm scoping shared by the configuration resources: which realms an admin sees, and
rights that must hold in every realm an object belongs to.

A resolver (and each user in it) belongs to every realm that contains it, so changing it
needs the right in each of those realms; a resolver in no realm is the target realm "",
which only an admin whose right is bound to no realm may touch.
"""

from __future__ import annotations

from collections.abc import Iterable

from tesserad.admin_web.rest import Call
from tesserad.core.rights import Target


def visible_realms(call: Call, action: str | None) -> frozenset[str] | None:
    """The realms an admin may see through ``action`` (None as action: through any of their
    admin policies, as privacyIDEA reduces ``GET /realm/``); None means every realm."""
    return call.rights.realms(action, call.realm_names())  # type: ignore[arg-type]


def realm_filter(visible: frozenset[str] | None, names: Iterable[str]) -> list[str]:
    return [name for name in names if visible is None or name in visible]


def resolver_targets(call: Call, resolver: str, user: str = "") -> list[Target]:
    """One target per realm that contains ``resolver`` (realm "" when none does)."""
    realms = call.ctx.directory.realms_of_resolver(call.session, resolver) or [""]
    return [Target(realm=realm, resolver=resolver, user=user) for realm in realms]


