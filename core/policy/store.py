"""Policies in the SQL store: validated writes, privacyIDEA's listing, export and import,
and the cached snapshot every request reads.

Every write bumps the change stamp ``policy`` in the writer's transaction. This process
uses the change at once (the cache is dropped at the write and again when the transaction
ends); another process sharing the database uses it at most ``interval`` seconds (1 s by
default, ``core.stamps.DEFAULT_INTERVAL``) after the commit, when its cache next looks at
the stamp. Writers never commit: the caller owns the transaction.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from tesserad.core.clock import Clock
from tesserad.core.policy.actions import SCOPES
from tesserad.core.policy.errors import PolicyError, PolicyNotFound
from tesserad.core.policy.fields import IPAddress, parse_address, split_list
from tesserad.core.policy.matching import BrokenPolicy, PolicyQuery, PolicySet
from tesserad.core.policy.model import LIST_FIELDS, Condition, PolicyDef, build_policy, split_actions
from tesserad.core.policy.transfer import export_text, parse_import
from tesserad.core.stamps import DEFAULT_INTERVAL, StampedCache, bump
from tesserad.core.store.models import Policy, PolicyCondition

log = logging.getLogger(__name__)

STAMP = "policy"
# Set in a session's info while its transaction has changed policies.
_WROTE = "tesserad.policy.wrote"


def row_fields(row: Policy) -> dict[str, Any]:
    """The stored attributes of ``row``, as ``build_policy`` takes them."""
    return {
        "scope": row.scope, "action": row.action, "time": row.time, "priority": row.priority,
        "active": row.active, "check_all_resolvers": row.check_all_resolvers,
        "description": row.description, **{name: getattr(row, name) for name in LIST_FIELDS},
        "conditions": [[c.section, c.key, c.comparator, c.value, c.active] for c in row.conditions],
    }


def row_dict(row: Policy) -> dict[str, Any]:
    """``row`` in the shape of privacyIDEA's ``GET /policy/``: lists for list attributes,
    the actions as a dict (True for switches, the value text otherwise)."""
    fields = row_fields(row)
    fields.update({name: list(split_list(fields[name])) for name in LIST_FIELDS})
    fields["action"] = {name: True if value is None else value for name, value in split_actions(row.action)}
    return {"name": row.name, **fields}


class PolicyStore:
    """Reads and writes policies; one instance per process, shared by all threads."""

    def __init__(self, clock: Clock, *, interval: float = DEFAULT_INTERVAL):
        self._clock = clock
        self._cache: StampedCache[PolicySet] = StampedCache(STAMP, self._load, clock, interval)

    def snapshot(self, session: Session) -> PolicySet:
        """All policies as of now (for another process's changes: as of ``interval`` ago).
        A transaction that changed policies reads its own state, which is not shared with
        other threads before it commits."""
        if session.info.get(_WROTE):
            return self._load(session)
        return self._cache.get(session)

    def _load(self, session: Session) -> PolicySet:
        policies: list[PolicyDef] = []
        broken: list[BrokenPolicy] = []
        for row in _rows(session):
            try:
                policies.append(stored_policy(row))
            except PolicyError as exc:
                log.error("stored policy %r is invalid and blocks its scope: %s", row.name, exc)
                broken.append(BrokenPolicy(row.name, row.scope, row.active, str(exc)))
        return PolicySet(policies, self._clock, broken)

    # ---- writing -----------------------------------------------------------------------------

    def set_policy(self, session: Session, name: str, **fields: Any) -> int:
        """Create the policy ``name``, or change the given attributes of an existing one
        (attributes given as None stay as they are). Returns the policy's id."""
        row = _row(session, name)
        current = row_fields(row) if row is not None else {}
        given = {k: v for k, v in fields.items() if v is not None}
        # Actions given now must all be enforced; stored ones the call leaves alone are kept.
        policy = build_policy(name, {**current, **given}, keep_unsupported="action" not in given)
        row = _save(session, row, policy)
        session.flush()
        self._changed(session)
        return row.id

    def delete_policy(self, session: Session, name: str) -> int:
        """Delete the policy ``name``; returns the id it had."""
        row = _existing(session, name)
        policy_id = row.id
        session.delete(row)
        session.flush()
        self._changed(session)
        return policy_id

    def enable_policy(self, session: Session, name: str, active: bool = True) -> int:
        """Switch the policy ``name`` on or off; returns its id."""
        _existing(session, name)
        return self.set_policy(session, name, active=active)

    def _changed(self, session: Session) -> None:
        """Tell other processes (the stamp) and this one (drop the cache now, and again
        when the transaction ends: a thread may have loaded the old state in between)."""
        bump(session, STAMP, self._clock)
        self._cache.invalidate()
        if not session.info.get(_WROTE):
            session.info[_WROTE] = True

            def done(sess: Session) -> None:
                sess.info.pop(_WROTE, None)
                self._cache.invalidate()

            event.listen(session, "after_commit", done, once=True)
            event.listen(session, "after_rollback", done, once=True)

    # ---- listing, export, import ---------------------------------------------------------------

    def get_policies(self, session: Session, *, name: str | None = None, scope: str | None = None,
                     active: bool | None = None, realm: str | None = None, resolver: str | None = None,
                     user: str | None = None, action: str | None = None, client: str | None = None,
                     adminrealm: str | None = None, adminuser: str | None = None,
                     pinode: str | None = None) -> list[dict[str, Any]]:
        """The stored policies in ``GET /policy/`` shape, strongest first.

        Like privacyIDEA's ``list_policies``, a filter left at None is ignored, and a
        policy passes a value filter when its attribute is empty or matches the value.
        A stored policy that no longer validates is listed with an ``error`` key whenever
        the name, scope and active filters select it.
        """
        wanted = {"realm": realm, "resolver": resolver, "user": user, "adminrealm": adminrealm,
                  "adminuser": adminuser, "pinode": pinode}
        address = _filter_address(client)
        listed: list[tuple[Policy, dict[str, Any]]] = []
        for row in _rows(session):
            if not _selected(row, name, scope, active):
                continue
            try:
                policy = stored_policy(row)
            except PolicyError as exc:
                listed.append((row, {**row_dict(row), "error": str(exc)}))
                continue
            if _passes(policy, wanted, action, client, address):
                listed.append((row, row_dict(row)))
        listed.sort(key=lambda item: (item[0].priority, item[0].name))
        return [entry for _, entry in listed]

    def check(self, session: Session, *, scope: str, action: str, user: str | None = None,
              realm: str | None = None, resolver: str | None = None, client: str | None = None,
              node: str | None = None) -> dict[str, Any]:
        """``GET /policy/check``: whether an active policy of ``scope`` that has ``action``
        applies to the given user, realm, resolver and client, and which policies do (in
        ``GET /policy/`` shape). There is no request to evaluate extended conditions on, so
        they are not evaluated: a policy whose other attributes match is reported."""
        try:
            query = PolicyQuery(scope=scope, action=action, user=user, realm=realm, resolver=resolver,
                                client=client, node=node, condition_sections=())
        except ValueError as exc:
            raise PolicyError(str(exc), field="action" if scope in SCOPES else "scope") from None
        names = {policy.name for policy in self.snapshot(session).match(query)}
        if not names:
            return {"allowed": False, "info": "No policies found"}
        return {"allowed": True, "policy": [p for p in self.get_policies(session, scope=scope) if p["name"] in names]}

    def export_policies(self, session: Session, names: list[str] | None = None) -> str:
        """The policies (all, or those named) in the JSON format of ``transfer``."""
        rows = [row for row in _rows(session) if names is None or row.name in names]
        return export_text([row_dict(row) for row in rows])

    def import_policies(self, session: Session, text: str, *, cleanup: bool = False,
                        update: bool = True, skip_unsupported: bool = False) -> ImportResult:
        """Import a tesserad or privacyIDEA export. Every policy is checked before anything
        is written. ``cleanup`` deletes all existing policies first; without ``update``,
        policies that exist already are kept as they are.

        Actions tesserad does not enforce refuse the import (``UnsupportedImport`` names
        every one of every policy); with ``skip_unsupported`` the policies are imported
        without them and the result names what was dropped."""
        entries = parse_import(text)
        checked: dict[str, PolicyDef] = {}
        for name, fields in entries:
            if name in checked:
                raise PolicyError(f"policy {name!r} appears twice in the import", field="name")
            try:
                checked[name] = build_policy(name, fields, keep_unsupported=True)
            except PolicyError as exc:
                raise PolicyError(exc.reason, field=exc.field, policy=name) from None
        dropped = [(name, action) for name, policy in checked.items() for action in policy.unsupported]
        if dropped and not skip_unsupported:
            raise UnsupportedImport(dropped)
        checked = {name: dataclasses.replace(policy, unsupported={}) for name, policy in checked.items()}
        existing = {row.name: row for row in _rows(session)}
        if cleanup:
            for row in existing.values():
                session.delete(row)
            session.flush()
            existing = {}
        written = 0
        for name, policy in checked.items():
            if name not in existing or update:
                _save(session, existing.get(name), policy)
                written += 1
        session.flush()
        self._changed(session)
        return ImportResult(written, dropped)

    def unsupported_report(self, session: Session) -> list[str]:
        """One line per stored policy (from an earlier version) with actions tesserad does not
        enforce: the policy matches only for its enforced actions. Names, never values."""
        return [f"policy {p.name!r} ({p.scope}) has actions tesserad does not enforce yet, which are ignored: "
                f"{', '.join(p.unsupported)}" for p in self.snapshot(session).policies if p.unsupported]


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote, and the (policy, action) pairs it dropped as unsupported."""

    written: int
    dropped: list[tuple[str, str]]


class UnsupportedImport(PolicyError):
    """An import names actions tesserad does not enforce: nothing is imported."""

    def __init__(self, dropped: list[tuple[str, str]]):
        self.dropped = dropped
        listing = "; ".join(f"policy {policy!r}: {action!r}" for policy, action in dropped)
        super().__init__(f"not supported yet, nothing imported (import with skip_unsupported to drop "
                         f"them): {listing}", field="action")


def stored_policy(row: Policy) -> PolicyDef:
    """A stored policy; actions an earlier version accepted that tesserad does not enforce are
    kept aside (``PolicyDef.unsupported``), not refused."""
    return build_policy(row.name, row_fields(row), keep_unsupported=True)


def _selected(row: Policy, name: str | None, scope: str | None, active: bool | None) -> bool:
    return (name is None or row.name == name) and (scope is None or row.scope == scope) \
        and (active is None or row.active == active)


def _filter_address(client: str | None) -> IPAddress | None:
    try:
        return parse_address(client) if client else None
    except ValueError as exc:
        raise PolicyError(str(exc), field="client") from None


def _passes(policy: PolicyDef, wanted: dict[str, str | None], action: str | None, client: str | None,
            address: IPAddress | None) -> bool:
    return all(value is None or getattr(policy, key).matches(value) for key, value in wanted.items()) \
        and (action is None or action in policy.actions) \
        and (client is None or policy.client.contains(address))


def _rows(session: Session) -> list[Policy]:
    query = select(Policy).options(selectinload(Policy.conditions)).order_by(Policy.name)
    return list(session.scalars(query))


def _row(session: Session, name: str) -> Policy | None:
    return session.scalar(select(Policy).options(selectinload(Policy.conditions)).where(Policy.name == name))


def _existing(session: Session, name: str) -> Policy:
    row = _row(session, name)
    if row is None:
        raise PolicyNotFound(f"no policy is named {name!r}", field="name")
    return row


def _save(session: Session, row: Policy | None, policy: PolicyDef) -> Policy:
    """Write ``policy`` into its row, a new one when ``row`` is None."""
    if row is None:
        row = Policy(name=policy.name)
        session.add(row)
    for key, value in policy.columns().items():
        setattr(row, key, value)
    row.conditions = [_condition_row(c) for c in policy.conditions]
    return row


def _condition_row(condition: Condition) -> PolicyCondition:
    return PolicyCondition(section=condition.section, key=condition.key, comparator=condition.comparator,
                           value=condition.value, active=condition.active)
