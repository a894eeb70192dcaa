"""Realms: which resolvers, in which order, make up a realm, and which realm is the default.

As in privacyIDEA, the only realm there is becomes the default realm, and a realm in which
tokens are owned cannot be deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tesserad.core.store.models import Realm as RealmRow
from tesserad.core.store.models import Resolver as ResolverRow
from tesserad.core.store.models import ResolverRealm as ResolverRealmRow
from tesserad.core.store.models import TokenOwner
from tesserad.core.users.base import ResolverError, UserError
from tesserad.core.users.snapshot import DirectoryState, check_name

MIN_PRIORITY, MAX_PRIORITY = 1, 999


class Realms(DirectoryState):
    """Create, change, delete and list realms; set the default realm."""

    def save_realm(self, session: Session, name: str, resolvers: list[tuple[str, int | None]]) -> None:
        """Create a realm or replace its resolver list. As in privacyIDEA, the only realm
        there is becomes the default realm."""
        check_name("realm", name)
        name = name.lower()
        ids = self._resolver_ids(session, resolvers)
        realm = session.scalar(select(RealmRow).where(RealmRow.name == name))
        if realm is None:
            realm = RealmRow(name=name, is_default=False)
            session.add(realm)
            session.flush()
        else:
            session.execute(delete(ResolverRealmRow).where(ResolverRealmRow.realm_id == realm.id))
        for (_, priority), resolver_id in zip(resolvers, ids, strict=True):
            session.add(ResolverRealmRow(realm_id=realm.id, resolver_id=resolver_id, priority=priority))
        session.flush()
        if len(session.scalars(select(RealmRow.id).limit(2)).all()) == 1:
            realm.is_default = True
            session.flush()
        self._changed(session)

    def set_realm(self, session: Session, name: str, resolvers: list[str],
                  priorities: Mapping[str, int] | None = None) -> tuple[list[str], list[str]]:
        """privacyIDEA's ``POST /realm/<name>``: the realm gets the listed resolvers that exist,
        with their priorities; returns (added, failed), failed being the names that do not
        exist. A priority for a resolver not in the list is refused."""
        priorities = dict(priorities or {})
        stray = sorted(set(priorities) - set(resolvers))
        if stray:
            raise ResolverError(f"priority.{stray[0]} is given, but {stray[0]} is not in resolvers")
        existing = set(session.scalars(select(ResolverRow.name).where(ResolverRow.name.in_(resolvers))))
        added = [r for r in resolvers if r in existing]
        self.save_realm(session, name, [(r, priorities.get(r)) for r in added])
        return added, [r for r in resolvers if r not in existing]

    @staticmethod
    def _resolver_ids(session: Session, resolvers: list[tuple[str, int | None]]) -> list[int]:
        names = [r for r, _ in resolvers]
        if len(set(names)) != len(names):
            raise ResolverError("a resolver can be in a realm only once")
        for resolver, priority in resolvers:
            if priority is not None and not MIN_PRIORITY <= priority <= MAX_PRIORITY:
                raise ResolverError(f"priority of resolver {resolver} must be {MIN_PRIORITY}..{MAX_PRIORITY}")
        found = {name: id_ for name, id_ in session.execute(
            select(ResolverRow.name, ResolverRow.id).where(ResolverRow.name.in_(names)))}
        missing = [n for n in names if n not in found]
        if missing:
            raise ResolverError(f"resolver {', '.join(missing)} does not exist")
        return [found[n] for n in names]

    def _realm_row(self, session: Session, name: str) -> RealmRow:
        realm = session.scalar(select(RealmRow).where(RealmRow.name == name.lower()))
        if realm is None:
            raise UserError(f"realm {name} does not exist")
        return realm

    def delete_realm(self, session: Session, name: str) -> None:
        """Delete a realm in which no token is owned."""
        realm = self._realm_row(session, name)
        owned = session.scalar(select(TokenOwner.id).where(TokenOwner.realm_id == realm.id).limit(1))
        if owned is not None:
            raise UserError(f"realm {realm.name} cannot be deleted: tokens are assigned to its users")
        session.execute(delete(ResolverRealmRow).where(ResolverRealmRow.realm_id == realm.id))
        session.delete(realm)
        session.flush()
        self._changed(session)

    def set_default_realm(self, session: Session, name: str | None) -> None:
        """Make ``name`` the default realm; None leaves no default realm."""
        target = self._realm_row(session, name).id if name is not None else None
        session.execute(update(RealmRow).where(RealmRow.is_default.is_(True)).values(is_default=False))
        if target is not None:
            session.execute(update(RealmRow).where(RealmRow.id == target).values(is_default=True))
        self._changed(session)

    def list_realms(self, session: Session) -> dict[str, dict[str, Any]]:
        """Like privacyIDEA's ``GET /realm/``."""
        snapshot = self._snapshot(session)
        result: dict[str, dict[str, Any]] = {}
        for name, realm in sorted(snapshot.realms.items()):
            members = [{"name": r, "type": snapshot.resolvers[r].rtype, "priority": p}
                       for r, p in realm.resolvers]
            result[name] = {"default": realm.default, "id": realm.id, "resolver": members}
        return result
