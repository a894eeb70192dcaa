"""The user directory: resolvers and realms as configured, and users looked up through them.

The whole realm and resolver configuration is loaded once into an immutable snapshot,
reloaded when the ``users`` change stamp moves (so another process's change applies within
the stamp interval), and resolver instances are kept per process and rebuilt only when
their own configuration changed. A login therefore costs no configuration query: one
stamp check at most per interval, then dictionary lookups and the resolver's own lookup.

Resolver settings of type ``password`` are stored only as security-module ciphertext
bound to ``resolver:<name>:<key>``, and are never handed out by the listing functions.
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

from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session, selectinload

from tesserad.core.clock import Clock
from tesserad.core.errors import DecryptionError
from tesserad.core.security.base import SecurityModule
from tesserad.core.stamps import StampedCache, bump
from tesserad.core.store.models import Realm as RealmRow
from tesserad.core.store.models import Resolver as ResolverRow
from tesserad.core.store.models import ResolverConfig as ResolverConfigRow
from tesserad.core.store.models import ResolverRealm as ResolverRealmRow
from tesserad.core.store.models import TokenOwner
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.users import custom_attributes
from tesserad.core.users import passwd as _passwd  # noqa: F401  (registers passwdresolver)
from tesserad.core.users import sql as _sql  # noqa: F401  (registers sqlresolver)
from tesserad.core.users.base import (
    RESOLVER_TYPES,
    STANDARD_ATTRIBUTES,
    ConfigKey,
    Resolver,
    ResolverError,
    User,
    UserError,
)

log = logging.getLogger(__name__)

STAMP = "users"
CENSORED = "__CENSORED__"
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
MIN_PRIORITY, MAX_PRIORITY = 1, 999
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


def _to_stored(key: str, spec: ConfigKey, value: Any) -> str:
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


def _from_stored(spec: ConfigKey, raw: str) -> Any:
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


def _refuse_own_database(instance: Resolver, session: Session) -> None:
    """No resolver reads tesserad's own database (``own_database``)."""
    if instance.reads_database(session.get_bind().engine.url):
        instance.close()
        raise ResolverError(f"resolver {instance.name}: that is tesserad's own database, which no resolver "
                            "may read")


class Directory:
    """Realms, resolvers and users; one instance per process, shared by all threads."""

    def __init__(self, security: SecurityModule, clock: Clock, sysconfig: SystemConfig) -> None:
        self._security = security
        self._clock = clock
        self._sysconfig = sysconfig
        self._cache: StampedCache[Snapshot] = StampedCache(STAMP, self._load, clock)
        self._lock = threading.Lock()
        self._instances: dict[str, tuple[ResolverDef, Resolver]] = {}

    # ---- loading -------------------------------------------------------------------------

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
                config[key] = _from_stored(spec, value)
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

    # ---- resolvers ---------------------------------------------------------------------

    @staticmethod
    def _check_name(kind: str, name: str) -> None:
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise ResolverError(f"{kind} name {name!r} is invalid: use letters, digits, '_', '.' and '-'")

    def save_resolver(self, session: Session, name: str, rtype: str | None, config: Mapping[str, Any]) -> int:
        """Create or update a resolver; returns its id. An update may give only some settings
        and may leave out the type; a password setting that is omitted or ``__CENSORED__``
        keeps its stored value."""
        self._check_name("resolver", name)
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
            plain[key] = _to_stored(key, spec, value)
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
                               else _from_stored(spec, item.value))
            except (DecryptionError, ValueError):
                raise ResolverError(f"resolver {name}: the stored {key} cannot be decrypted "
                                    "with this key; give it again") from None
        for key, text in plain.items():
            config[key] = text if cls.config_keys[key].type == "password" else _from_stored(
                cls.config_keys[key], text)
        missing = [k for k, spec in cls.config_keys.items() if spec.required and config.get(k) in (None, "")]
        if missing:
            raise ResolverError(f"resolver {name}: missing setting {', '.join(missing)}")
        instance = cls(name, config)
        _refuse_own_database(instance, session)
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
            _refuse_own_database(instance, session)
            self._instances[name] = (d, instance)
            stale = cached[1] if cached is not None else None
        if stale is not None:
            stale.close()
        return instance

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
                _refuse_own_database(instance, session)
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
                typed[key] = _from_stored(spec, _to_stored(key, spec, value))
        return typed

    def close(self) -> None:
        """Close every resolver instance (on stop)."""
        with self._lock:
            instances = [instance for _, instance in self._instances.values()]
            self._instances.clear()
        for instance in instances:
            instance.close()

    # ---- realms ------------------------------------------------------------------------

    def save_realm(self, session: Session, name: str, resolvers: list[tuple[str, int | None]]) -> None:
        """Create a realm or replace its resolver list. As in privacyIDEA, the only realm
        there is becomes the default realm."""
        self._check_name("realm", name)
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

    def default_realm(self, session: Session) -> str | None:
        return self._snapshot(session).default

    def realm_id(self, session: Session, name: str) -> int | None:
        """The id of realm ``name`` (any case), or None; from the snapshot, no query."""
        realm = self._snapshot(session).realms.get(name.lower())
        return None if realm is None else realm.id

    def list_realms(self, session: Session) -> dict[str, dict[str, Any]]:
        """Like privacyIDEA's ``GET /realm/``."""
        snapshot = self._snapshot(session)
        result: dict[str, dict[str, Any]] = {}
        for name, realm in sorted(snapshot.realms.items()):
            members = [{"name": r, "type": snapshot.resolvers[r].rtype, "priority": p}
                       for r, p in realm.resolvers]
            result[name] = {"default": realm.default, "id": realm.id, "resolver": members}
        return result

    # ---- users -------------------------------------------------------------------------

    def split_user(self, session: Session, login: str, realm: str | None) -> tuple[str, str]:
        """(login, realm) for the ``user`` and ``realm`` request parameters (spec §2.10):
        an explicit realm wins and must exist; with splitAtSign, ``login@realm`` is split
        only when the part after the last ``@`` is a realm; otherwise the default realm."""
        realms = self._snapshot(session).realms
        split = self._sysconfig.settings(session).splitAtSign
        if split and "@" in login:
            head, tail = login.rsplit("@", 1)
            if tail.lower() in realms:
                login, suffix = head, tail.lower()
            else:
                suffix = None
        else:
            suffix = None
        if realm:
            if realm.lower() not in realms:
                raise UserError(f"realm {realm} does not exist")
            return login, realm.lower()
        if suffix is not None:
            return login, suffix
        return login, self.default_realm(session) or ""

    def find_user(self, session: Session, login: str, realm: str) -> User:
        """The user ``login`` from the first resolver of ``realm`` (by priority) that knows
        it; a User without resolver and uid when none does."""
        realm = realm.lower()
        realm_def = self._snapshot(session).realms.get(realm)
        if realm_def is not None and login:
            for name, _ in realm_def.resolvers:
                uid = self.resolver(session, name).uid_for(login)
                if uid:
                    return User(login, realm, name, uid)
        return User(login, realm)

    def resolve(self, session: Session, user_param: str, realm_param: str | None) -> User:
        login, realm = self.split_user(session, user_param, realm_param)
        return self.find_user(session, login, realm)

    def user_from_owner(self, session: Session, realm: str, resolver: str, uid: str) -> User:
        """The user behind a stored token owner, with today's login (empty when the user
        is gone from the store)."""
        try:
            record = self.resolver(session, resolver).get(uid)
        except ResolverError:
            record = None
        return User(record.login if record else "", realm.lower(), resolver, uid)

    def user_info(self, session: Session, user: User) -> dict[str, Any]:
        """The user's attributes from the store, with custom attributes set on the user
        (``/user/attribute``) merged over them; empty for an unknown user."""
        if not user.exists:
            return {}
        record = self.resolver(session, user.resolver).get(user.uid)
        if record is None:
            return {}
        info: dict[str, Any] = {key: "" for key in STANDARD_ATTRIBUTES}
        info.update(record.attributes)
        info["username"], info["userid"] = record.login, record.uid
        info.update(self._custom_attributes(session, user))
        return info

    def _custom_attributes(self, session: Session, user: User) -> dict[str, str]:
        realm_id = self.realm_id(session, user.realm) if user.realm else None
        if realm_id is None:
            return {}
        return custom_attributes.of_user(session, realm_id, user)

    def check_password(self, session: Session, user: User, password: str) -> bool:
        """The user's store password (``otppin=userstore``, ``passthru``); False for a user
        not found or whose resolver is gone."""
        if not user.exists:
            return False
        try:
            resolver = self.resolver(session, user.resolver)
        except ResolverError:
            return False
        return resolver.check_password(user.uid, password)

    def users_of_realms(self, session: Session, realms: list[str],
                        filters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """``GET /user/`` over several realms: each user once, although a resolver may be
        in several of the realms."""
        seen: set[tuple[str, str]] = set()
        users = []
        for realm in realms:
            for user in self.list_users(session, realm, filters):
                if (user["resolver"], user["userid"]) not in seen:
                    seen.add((user["resolver"], user["userid"]))
                    users.append(user)
        return users

    def add_user(self, session: Session, resolver: str, attributes: Mapping[str, Any]) -> str:
        """Create a user in an editable resolver (``POST /user/``); returns the new user id."""
        return self.resolver(session, resolver).add_user(attributes)

    def update_user(self, session: Session, resolver: str, login: str, attributes: Mapping[str, Any]) -> str:
        """Change the attributes (and password) of ``login`` in an editable resolver; returns its id."""
        store = self.resolver(session, resolver)
        uid = self._uid(store, login)
        store.update_user(uid, attributes)
        return uid

    def delete_user(self, session: Session, resolver: str, login: str) -> str:
        """Delete ``login`` from an editable resolver; returns the id it had."""
        store = self.resolver(session, resolver)
        uid = self._uid(store, login)
        store.delete_user(uid)
        return uid

    @staticmethod
    def _uid(store: Resolver, login: str) -> str:
        uid = store.uid_for(login) if login else None
        if not uid:
            raise UserError(f"resolver {store.name} has no user {login!r}")
        return uid

    def list_users(self, session: Session, realm: str, filters: Mapping[str, str] | None = None, *,
                   offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Users of ``realm`` matching ``filters`` (``*`` wildcards; key ``resolver`` picks
        one resolver), resolver by resolver in priority order, then paged."""
        realm_def = self._snapshot(session).realms.get(realm.lower())
        if realm_def is None:
            raise UserError(f"realm {realm} does not exist")
        wanted = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
        only = wanted.pop("resolver", None)
        users: list[dict[str, Any]] = []
        skip = max(offset, 0)
        for name, _ in realm_def.resolvers:
            if only is not None and name != only:
                continue
            need = None if limit is None else limit - len(users)
            if need is not None and need <= 0:
                break
            resolver = self.resolver(session, name)
            records = resolver.search(wanted, limit=None if need is None else skip + need)
            taken = records[skip:]
            skip = max(skip - len(records), 0)
            for record in taken[:need]:
                users.append({**{key: "" for key in STANDARD_ATTRIBUTES}, **record.attributes,
                              "username": record.login, "userid": record.uid,
                              "resolver": name, "editable": resolver.editable})
        return users
