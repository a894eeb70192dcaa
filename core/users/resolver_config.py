"""Resolver configuration: saving, deleting, listing and testing resolvers.

A resolver is refused when saved if it cannot work (a missing setting, a Map without userid,
an unknown driver) or would read tesserad's own database; a password setting that is left
out or ``__CENSORED__`` keeps its stored value, and listings show it masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tesserad.core.errors import DecryptionError
from tesserad.core.store.models import Realm as RealmRow
from tesserad.core.store.models import Resolver as ResolverRow
from tesserad.core.store.models import ResolverConfig as ResolverConfigRow
from tesserad.core.store.models import ResolverRealm as ResolverRealmRow
from tesserad.core.users.base import RESOLVER_TYPES, ConfigKey, Resolver, ResolverError
from tesserad.core.users.snapshot import (
    CENSORED,
    DirectoryState,
    check_name,
    from_stored,
    refuse_own_database,
    to_stored,
)


class ResolverSettings(DirectoryState):
    """Create, change, delete, list and test resolvers."""

    def save_resolver(self, session: Session, name: str, rtype: str | None, config: Mapping[str, Any]) -> int:
        """Create or update a resolver; returns its id. An update may give only some settings
        and may leave out the type; a password setting that is omitted or ``__CENSORED__``
        keeps its stored value."""
        check_name("resolver", name)
        row = session.scalar(select(ResolverRow).where(ResolverRow.name == name)
                             .options(selectinload(ResolverRow.config)))
        if rtype is None:
            if row is None:
                raise ResolverError(f"resolver {name} does not exist yet: give its type")
            rtype = row.rtype
        cls = RESOLVER_TYPES.get(rtype)
        if cls is None:
            raise ResolverError(f"unknown resolver type {rtype!r}; known: {', '.join(sorted(RESOLVER_TYPES))}")
        unknown = sorted(set(config) - set(cls.config_keys))
        if unknown:
            raise ResolverError(f"resolver type {rtype} has no setting {', '.join(unknown)}")
        if row is not None and row.rtype != rtype:
            raise ResolverError(f"resolver {name} is of type {row.rtype}; the type cannot change")
        stored = {c.key: c for c in row.config} if row is not None else {}
        plain: dict[str, str] = {}  # key -> text to store (secrets still clear)
        for key, value in config.items():
            spec = cls.config_keys[key]
            if spec.type == "password" and (value is None or value == CENSORED):
                if key not in stored:
                    raise ResolverError(f"{key}: no stored value to keep; give the password")
                continue
            plain[key] = to_stored(key, spec, value)
        self._validate(session, name, cls, stored, plain)
        if row is None:
            row = ResolverRow(name=name, rtype=rtype)
            session.add(row)
        for key, text in plain.items():
            self._store_setting(row, stored, name, key, cls.config_keys[key], text)
        session.flush()
        self._changed(session)
        return row.id

    def _validate(self, session: Session, name: str, cls: type[Resolver], stored: Mapping[str, ResolverConfigRow],
                  plain: Mapping[str, str]) -> None:
        """Build (and close) an instance from the merged settings, so that a resolver that
        cannot work (Map without userid, unknown driver, ...) or that would read tesserad's
        own database is refused when saved."""
        config: dict[str, Any] = {key: spec.default for key, spec in cls.config_keys.items()}
        for key, item in stored.items():
            spec = cls.config_keys.get(key)
            if spec is None or key in plain:
                continue
            try:
                config[key] = (self._decrypt(name, key, item.value) if item.type == "password"
                               else from_stored(spec, item.value))
            except (DecryptionError, ValueError):
                raise ResolverError(f"resolver {name}: the stored {key} cannot be decrypted "
                                    "with this key; give it again") from None
        for key, text in plain.items():
            config[key] = text if cls.config_keys[key].type == "password" else from_stored(
                cls.config_keys[key], text)
        missing = [k for k, spec in cls.config_keys.items() if spec.required and config.get(k) in (None, "")]
        if missing:
            raise ResolverError(f"resolver {name}: missing setting {', '.join(missing)}")
        instance = cls(name, config)
        refuse_own_database(instance, session)
        instance.close()

    def _store_setting(self, row: ResolverRow, stored: dict[str, ResolverConfigRow], name: str,
                       key: str, spec: ConfigKey, text: str) -> None:
        value = self._encrypt(name, key, text) if spec.type == "password" else text
        item = stored.get(key)
        if item is None:
            item = ResolverConfigRow(key=key)
            row.config.append(item)
            stored[key] = item
        item.value, item.type = value, spec.type

    def delete_resolver(self, session: Session, name: str) -> int:
        """Delete a resolver that is in no realm; returns the id it had."""
        row = session.scalar(select(ResolverRow).where(ResolverRow.name == name))
        if row is None:
            raise ResolverError(f"resolver {name} does not exist")
        realms = session.scalars(select(RealmRow.name).join(ResolverRealmRow)
                                 .where(ResolverRealmRow.resolver_id == row.id)).all()
        if realms:
            raise ResolverError(f"resolver {name} is still used in the realms {', '.join(sorted(realms))}")
        resolver_id = row.id
        session.delete(row)
        session.flush()
        self._changed(session)
        return resolver_id

    def list_resolvers(self, session: Session, *, rtype: str | None = None,
                       editable: bool | None = None) -> dict[str, dict[str, Any]]:
        """Like privacyIDEA's ``GET /resolver/``: stored settings, passwords masked."""
        result: dict[str, dict[str, Any]] = {}
        for name, d in sorted(self._snapshot(session).resolvers.items()):
            if rtype is not None and d.rtype != rtype:
                continue
            if editable is not None and bool(d.config.get("Editable")) != editable:
                continue
            cls = RESOLVER_TYPES.get(d.rtype)
            censor = sorted(k for k, s in cls.config_keys.items() if s.type == "password") if cls else []
            result[name] = {"resolvername": name, "type": d.rtype, "censor_keys": censor,
                            "data": dict(d.listing)}
        return result

    def realms_of_resolver(self, session: Session, name: str) -> list[str]:
        """The realms that contain resolver ``name`` (its users are users of each of them)."""
        return sorted(realm.name for realm in self._snapshot(session).realms.values()
                      if any(member == name for member, _ in realm.resolvers))

    def test_resolver(self, rtype: str, config: Mapping[str, Any], *, session: Session | None = None,
                      name: str | None = None) -> tuple[bool, str]:
        """Try settings before saving them (``POST /resolver/test``). With ``session`` and
        ``name`` of a stored resolver, ``__CENSORED__`` passwords use the stored ones."""
        cls = RESOLVER_TYPES.get(rtype)
        if cls is None:
            return False, f"unknown resolver type {rtype!r}"
        try:
            typed = self._test_config(cls, config, session, name)
            instance = cls(name or "test", typed)
            if session is not None:
                refuse_own_database(instance, session)
        except ResolverError as exc:
            return False, str(exc)
        try:
            return instance.test_connection()
        finally:
            instance.close()

    def _test_config(self, cls: type[Resolver], config: Mapping[str, Any], session: Session | None,
                     name: str | None) -> dict[str, Any]:
        stored = {}
        if session is not None and name is not None:
            d = self._snapshot(session).resolvers.get(name)
            stored = dict(d.config) if d is not None else {}
        typed: dict[str, Any] = {key: spec.default for key, spec in cls.config_keys.items()}
        for key, value in config.items():
            spec = cls.config_keys.get(key)
            if spec is None:
                raise ResolverError(f"resolver type {cls.rtype} has no setting {key}")
            if spec.type == "password" and value == CENSORED:
                typed[key] = stored.get(key, "")
            else:
                typed[key] = from_stored(spec, to_stored(key, spec, value))
        return typed
