"""The directory's state: the realm and resolver configuration as an immutable snapshot,
and the resolver instances built from it.

The whole configuration is loaded once, reloaded when the ``users`` change stamp moves (so
another process's change applies within the stamp interval), and resolver instances are kept
per process and rebuilt only when their own configuration changed. A login therefore costs
no configuration query: one stamp check at most per interval, then dictionary lookups and the
resolver's own lookup.

Resolver settings of type ``password`` are stored only as security-module ciphertext bound to
``resolver:<name>:<key>``; they are decrypted into the snapshot and never handed out.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tesserad.core.clock import Clock
from tesserad.core.errors import DecryptionError
from tesserad.core.security.base import SecurityModule
from tesserad.core.stamps import StampedCache, bump
from tesserad.core.store.models import Realm as RealmRow
from tesserad.core.store.models import Resolver as ResolverRow
from tesserad.core.store.models import ResolverConfig as ResolverConfigRow
from tesserad.core.store.models import ResolverRealm as ResolverRealmRow
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.users import passwd as _passwd  # noqa: F401  (registers passwdresolver)
from tesserad.core.users import sql as _sql  # noqa: F401  (registers sqlresolver)
from tesserad.core.users.base import RESOLVER_TYPES, ConfigKey, Resolver, ResolverError

log = logging.getLogger(__name__)

STAMP = "users"
CENSORED = "__CENSORED__"
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


# ---- typed resolver settings ------------------------------------------------------------

def _parse_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ResolverError(f"{key}: expected a boolean, got {value!r}")


def to_stored(key: str, spec: ConfigKey, value: Any) -> str:
    """The text stored for ``value`` (before encryption for passwords); checks its type."""
    if spec.type == "int":
        if value is None or str(value).strip() == "":
            return ""
        try:
            return str(int(str(value).strip()))
        except ValueError:
            raise ResolverError(f"{key}: expected an integer, got {value!r}") from None
    if spec.type == "bool":
        return "1" if _parse_bool(key, value) else "0"
    if spec.type == "json":
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                raise ResolverError(f"{key}: not valid JSON") from None
            return value
        return json.dumps(value)
    return "" if value is None else str(value)


def from_stored(spec: ConfigKey, raw: str) -> Any:
    """The typed value of a stored (decrypted) setting; a damaged value becomes the
    default, so that one bad row cannot stop every login of the realm."""
    try:
        if spec.type == "int":
            return int(raw) if raw.strip() else spec.default
        if spec.type == "bool":
            return _parse_bool("", raw)
        if spec.type == "json":
            return json.loads(raw) if raw.strip() else spec.default
    except (ValueError, ResolverError):
        return spec.default
    return raw


# ---- the snapshot -----------------------------------------------------------------------

@dataclass(frozen=True)
class ResolverDef:
    """One resolver as stored: typed settings with secrets decrypted (never shown), the
    stored text (secrets masked) for listings, or why it cannot be built."""

    name: str
    rtype: str
    config: Mapping[str, Any] = field(repr=False)
    listing: Mapping[str, str] = field(repr=False)
    error: str = ""


@dataclass(frozen=True)
class RealmDef:
    id: int
    name: str
    default: bool
    # (resolver name, priority), lowest number first, no priority last.
    resolvers: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class Snapshot:
    resolvers: Mapping[str, ResolverDef]
    realms: Mapping[str, RealmDef]
    default: str | None


def _priority_order(item: tuple[str, int | None]) -> tuple[int, int, str]:
    name, priority = item
    return (priority is None, priority or 0, name)


def refuse_own_database(instance: Resolver, session: Session) -> None:
    """No resolver reads tesserad's own database (``own_database``)."""
    if instance.reads_database(session.get_bind().engine.url):
        instance.close()
        raise ResolverError(f"resolver {instance.name}: that is tesserad's own database, which no resolver "
                            "may read")


def check_name(kind: str, name: str) -> None:
    """Resolver and realm names: letters, digits, '_', '.' and '-'."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ResolverError(f"{kind} name {name!r} is invalid: use letters, digits, '_', '.' and '-'")


class DirectoryState:
    """The snapshot and the resolver instances; one per process, shared by all threads. The
    directory's rooms (resolver settings, realms, user lookup) are built on it."""

    def __init__(self, security: SecurityModule, clock: Clock, sysconfig: SystemConfig) -> None:
        self._security = security
        self._clock = clock
        self._sysconfig = sysconfig
        self._cache: StampedCache[Snapshot] = StampedCache(STAMP, self._load, clock)
        self._lock = threading.Lock()
        self._instances: dict[str, tuple[ResolverDef, Resolver]] = {}

    def _secret_context(self, name: str, key: str) -> bytes:
        return f"resolver:{name}:{key}".encode()

    def _encrypt(self, name: str, key: str, value: str) -> str:
        sealed = self._security.encrypt(value.encode(), context=self._secret_context(name, key))
        return base64.b64encode(sealed).decode()

    def _decrypt(self, name: str, key: str, stored: str) -> str:
        return self._security.decrypt(base64.b64decode(stored),
                                      context=self._secret_context(name, key)).decode()

    def _resolver_def(self, name: str, rtype: str, items: list[tuple[str, str, str]]) -> ResolverDef:
        """Typed settings from stored (key, value, type) rows; secrets decrypted here."""
        listing = {key: (CENSORED if kind == "password" else value) for key, value, kind in items}
        cls = RESOLVER_TYPES.get(rtype)
        if cls is None:
            return ResolverDef(name, rtype, {}, listing, f"unknown resolver type {rtype!r}")
        config = {key: spec.default for key, spec in cls.config_keys.items()}
        for key, value, kind in items:
            spec = cls.config_keys.get(key)
            if spec is None:
                log.warning("resolver %s: ignoring unknown stored setting %s", name, key)
            elif kind == "password":
                try:
                    config[key] = self._decrypt(name, key, value)
                except (DecryptionError, ValueError):
                    return ResolverDef(name, rtype, {}, listing,
                                       f"its setting {key} cannot be decrypted with this key")
            else:
                config[key] = from_stored(spec, value)
        return ResolverDef(name, rtype, MappingProxyType(config), MappingProxyType(listing))

    def _load(self, session: Session) -> Snapshot:
        """Everything in four plain queries (column rows, so that ORM objects already in
        the caller's session cannot hand back stale state)."""
        items: dict[int, list[tuple[str, str, str]]] = {}
        for resolver_id, key, value, kind in session.execute(select(
                ResolverConfigRow.resolver_id, ResolverConfigRow.key, ResolverConfigRow.value,
                ResolverConfigRow.type)):
            items.setdefault(resolver_id, []).append((key, value, kind))
        names: dict[int, str] = {}
        resolvers: dict[str, ResolverDef] = {}
        for resolver_id, name, rtype in session.execute(
                select(ResolverRow.id, ResolverRow.name, ResolverRow.rtype)):
            names[resolver_id] = name
            resolvers[name] = self._resolver_def(name, rtype, items.get(resolver_id, []))
        members: dict[int, list[tuple[str, int | None]]] = {}
        for realm_id, resolver_id, priority in session.execute(
                select(ResolverRealmRow.realm_id, ResolverRealmRow.resolver_id, ResolverRealmRow.priority)):
            members.setdefault(realm_id, []).append((names[resolver_id], priority))
        realms: dict[str, RealmDef] = {}
        default = None
        for realm_id, name, is_default in session.execute(
                select(RealmRow.id, RealmRow.name, RealmRow.is_default)):
            ordered = tuple(sorted(members.get(realm_id, []), key=_priority_order))
            realms[name] = RealmDef(realm_id, name, bool(is_default), ordered)
            if is_default and default is None:
                default = name
        return Snapshot(MappingProxyType(resolvers), MappingProxyType(realms), default)

    def _snapshot(self, session: Session) -> Snapshot:
        return self._cache.get(session)

    def _changed(self, session: Session) -> None:
        """After a write: bump the stamp for other processes, and make this process reload
        now and again once the transaction ends (a thread may have loaded the old state
        between the two)."""
        bump(session, STAMP, self._clock)
        self._cache.invalidate()
        if not session.info.get("tesserad.users.hooked"):
            session.info["tesserad.users.hooked"] = True

            def done(sess: Session) -> None:
                sess.info.pop("tesserad.users.hooked", None)
                self._cache.invalidate()

            event.listen(session, "after_commit", done, once=True)
            event.listen(session, "after_rollback", done, once=True)

    def resolver(self, session: Session, name: str) -> Resolver:
        """This process's instance of resolver ``name``, rebuilt when its settings change."""
        d = self._snapshot(session).resolvers.get(name)
        if d is None:
            raise ResolverError(f"resolver {name} does not exist")
        stale: Resolver | None = None
        with self._lock:
            cached = self._instances.get(name)
            if cached is not None and cached[0] == d:
                return cached[1]
            if d.error:
                raise ResolverError(f"resolver {name} cannot be used: {d.error}")
            instance = RESOLVER_TYPES[d.rtype](name, d.config, clock=self._clock)
            refuse_own_database(instance, session)
            self._instances[name] = (d, instance)
            stale = cached[1] if cached is not None else None
        if stale is not None:
            stale.close()
        return instance

    def default_realm(self, session: Session) -> str | None:
        return self._snapshot(session).default

    def realm_id(self, session: Session, name: str) -> int | None:
        """The id of realm ``name`` (any case), or None; from the snapshot, no query."""
        realm = self._snapshot(session).realms.get(name.lower())
        return None if realm is None else realm.id

    def close(self) -> None:
        """Close every resolver instance (on stop)."""
        with self._lock:
            instances = [instance for _, instance in self._instances.values()]
            self._instances.clear()
        for instance in instances:
            instance.close()
