"""Token lifecycle: init, assign, enable, revoke, resync, PIN, properties, realms, delete, list.

The REST resources, the CLI and the UI all manage tokens through these functions; they
take a session and leave the commit to the caller, so one API call is one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, insert, inspect, or_, select
from sqlalchemy.orm import Session, selectinload

from tesserad.core.clock import Clock, utc_datetime
from tesserad.core.errors import TesseraError
from tesserad.core.security.base import SecurityModule
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.store.models import Realm, Token, TokenGroup, TokenInfo, TokenOwner, TokenRealm
from tesserad.core.sysconfig import SystemConfig, SystemSettings
from tesserad.core.tokens.base import (
    VALIDITY_FORMAT,
    ParameterError,
    TokenClass,
    TokenEnv,
    TokenError,
    TokenNotFound,
    param_bool,
    param_int,
)
from tesserad.core.tokens.oath import HASHLIBS
from tesserad.core.tokens.ownership import owner_is
from tesserad.core.tokens.pw import random_password
from tesserad.core.tokens.record import orm_of
from tesserad.core.tokens.registration import generate_code
from tesserad.core.tokens.registry import token_class
from tesserad.core.users.base import User

LOST_TOKEN_DAYS = 10
LOST_PASSWORD_LENGTH = 16
MAX_PAGE_SIZE = 1000
SORT_COLUMNS = frozenset({"serial", "tokentype", "description", "id", "failcount", "maxfail", "active", "count",
                          "otplen", "rollout_state"})
_LOADED = (selectinload(Token.info), selectinload(Token.owners).selectinload(TokenOwner.realm),
           selectinload(Token.realms), selectinload(Token.groups))


@dataclass(frozen=True)
class TokenFilter:
    """What ``/token/`` lists. Text filters with ``*`` are patterns, otherwise exact.
    ``visible_realms`` None: every token; a set: only tokens in one of those realms (a
    token is in its owner's realm and in its token realms)."""

    serial: str | None = None
    tokentype: str | None = None
    description: str | None = None
    active: bool | None = None
    assigned: bool | None = None
    rollout_state: str | None = None
    user: User | None = None
    realm: str | None = None
    visible_realms: Collection[str] | None = None
    infokey: str | None = None
    infovalue: str | None = None


@dataclass(frozen=True)
class TokenPage:
    tokens: list[TokenClass]
    count: int
    current: int
    prev: int | None
    next: int | None


class TokenService:
    def __init__(self, security: SecurityModule, hasher: SecretHasher, clock: Clock, sysconfig: SystemConfig):
        self.security = security
        self.hasher = hasher
        self.clock = clock
        self.sysconfig = sysconfig

    def env(self, session: Session) -> TokenEnv:
        snapshot = self.sysconfig.snapshot(session)
        return TokenEnv(self.security, self.hasher, self.clock, snapshot.settings, snapshot.extra)

    def get(self, session: Session, serial: str) -> TokenClass:
        row = session.scalar(select(Token).where(Token.serial == serial).options(*_LOADED))
        if row is None:
            raise TokenNotFound(f"The token with serial {serial} does not exist")
        return token_class(row.tokentype)(row, self.env(session))

    def find(self, session: Session, serial: str) -> TokenClass | None:
        try:
            return self.get(session, serial)
        except TokenNotFound:
            return None

    def tokens_of(self, session: Session, user: User) -> list[TokenClass]:
        """The user's tokens, by serial."""
        rows = session.scalars(select(Token).where(Token.id.in_(_owned_by(user))).order_by(Token.serial)
                               .options(*_LOADED)).all()
        env = self.env(session)
        return [token_class(row.tokentype)(row, env) for row in rows]

    def count_of(self, session: Session, user: User, *, tokentype: str | None = None,
                 active_only: bool = False, besides: str | None = None) -> int:
        """How many tokens ``user`` has (of a type, active ones), not counting ``besides``."""
        query = select(func.count(Token.id)).where(Token.id.in_(_owned_by(user)))
        if tokentype:
            query = query.where(Token.tokentype == tokentype)
        if active_only:
            query = query.where(Token.active.is_(True))
        if besides:
            query = query.where(Token.serial != besides)
        return session.scalar(query) or 0

    def count_in_realm(self, session: Session, realm: str, *, besides: str | None = None) -> int:
        query = self._filtered(select(func.count(Token.id)), TokenFilter(realm=realm))
        if besides:
            query = query.where(Token.serial != besides)
        return session.scalar(query) or 0

    # ---- enrollment ------------------------------------------------------------------------

    def new_serial(self, session: Session, prefix: str) -> str:
        length = self.sysconfig.settings(session).SerialLength
        while True:
            serial = prefix + secrets.token_hex((length + 1) // 2)[:length].upper()
            if session.scalar(select(Token.id).where(Token.serial == serial)) is None:
                return serial

    def init(self, session: Session, params: Mapping[str, Any], user: User | None = None,
             realm_id: int | None = None) -> tuple[TokenClass, dict[str, Any]]:
        """Create a token (or re-initialize one of the same type) from /token/init parameters."""
        cls = token_class(str(params.get("type") or "hotp"))
        serial = _checked_serial(str(params.get("serial") or "") or self.new_serial(session, cls.prefix))
        row = session.scalar(select(Token).where(Token.serial == serial).options(selectinload(Token.info)))
        if row is None:
            row = self._new_row(serial, cls.type, self.sysconfig.settings(session))
            session.add(row)
        elif row.tokentype != cls.type:
            raise TokenError(f"Token {serial} already exists with type {row.tokentype}; "
                             f"it cannot be initialized as {cls.type}")
        token = cls(row, self.env(session))
        detail = self._enroll(token, params)
        for realm in token.referenced_realms():
            self._realm(session, realm)
        session.flush()
        if user is not None:
            self.assign(session, serial, user, realm_id=realm_id)
        detail["serial"] = serial
        detail["rollout_state"] = row.rollout_state
        return token, detail

    def build_new(self, session: Session, wanted: list[tuple[Mapping[str, Any], User | None]],
                  realms: list[str]) -> tuple[list[TokenClass], dict[str, str]]:
        """Tokens for serials that do not exist yet, enrolled in memory from ``(params,
        owner)`` (an existing user, or None) as ``init`` would, for ``insert_new`` to write (the bulk form of ``init``,
        for imports: no QR images are drawn). Returns them and why each other one failed
        (by serial). The session is only read."""
        settings = self.sysconfig.settings(session)
        env = replace(self.env(session), qr_images=False)
        token_realms = [self._realm(session, name) for name in dict.fromkeys(realms)]
        realm_ids = {name: self._realm(session, name).id for name in {u.realm for _, u in wanted if u is not None}}
        built: list[TokenClass] = []
        failed: dict[str, str] = {}
        for params, user in wanted:
            cls, serial = token_class(str(params.get("type") or "hotp")), str(params.get("serial") or "")
            try:
                token = cls(self._new_row(_checked_serial(serial), cls.type, settings), env)
                self._enroll(token, params)
            except TesseraError as exc:
                failed[serial] = str(exc)
                continue
            if user is not None:
                token.row.owners.append(_owner(user, realm_ids[user.realm]))
            orm_of(token.row).realms = list(token_realms)
            built.append(token)
        return built, failed

    @staticmethod
    def insert_new(session: Session, tokens: list[TokenClass]) -> None:
        """Write the tokens of ``build_new`` with one INSERT per table: a unit-of-work flush
        of the same rows costs some times as much, all of it while holding the write lock.
        The token objects stay out of the session."""
        if not tokens:
            return
        session.execute(insert(Token), [_column_values(token.row) for token in tokens])
        ids = {serial: token_id for serial, token_id in session.execute(select(Token.serial, Token.id).where(
            Token.serial.in_([token.serial for token in tokens])))}
        children: dict[type[Any], list[dict[str, Any]]] = {TokenInfo: [], TokenOwner: [], TokenRealm: []}
        for token in tokens:
            token_id = ids[token.serial]
            children[TokenInfo] += [{**_column_values(info), "token_id": token_id} for info in token.row.info]
            children[TokenOwner] += [{**_column_values(owner), "token_id": token_id} for owner in token.row.owners]
            children[TokenRealm] += [{"token_id": token_id, "realm_id": realm.id} for realm in token.row.realms]
        for model, rows in children.items():
            if rows:
                session.execute(insert(model), rows)

    def _new_row(self, serial: str, tokentype: str, settings: SystemSettings) -> Token:
        return Token(serial=serial, tokentype=tokentype, otplen=settings.DefaultOtpLen,
                     count_window=settings.DefaultCountWindow, sync_window=settings.DefaultSyncWindow,
                     maxfail=settings.DefaultMaxFailCount, created_at=utc_datetime(self.clock), info=[])

    def _enroll(self, token: TokenClass, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = token.enroll(params)
        if "pin" in params:
            token.set_pin(str(params["pin"]), encrypt=param_bool(params, "encryptpin"))
        self._set_validity(token, params)
        return detail

    def _set_validity(self, token: TokenClass, params: Mapping[str, Any]) -> int:
        done = 0
        for key in ("validity_period_start", "validity_period_end"):
            if params.get(key):
                try:
                    datetime.strptime(str(params[key]), VALIDITY_FORMAT)
                except ValueError:
                    raise ParameterError(f"{key} must look like 2026-01-31T18:00+0100") from None
                token.set_info(key, params[key])
                done += 1
        return done

    # ---- ownership -------------------------------------------------------------------------

    def _realm(self, session: Session, name: str) -> Realm:
        realm = session.scalar(select(Realm).where(Realm.name == name.lower()))
        if realm is None:
            raise ParameterError(f"realm {name!r} does not exist")
        return realm

    def assign(self, session: Session, serial: str, user: User, *, pin: str | None = None,
               realm_id: int | None = None) -> None:
        if not user.exists:
            raise ParameterError(f"user {user} does not exist")
        token = self.get(session, serial)
        if token.row.owners:
            raise TokenError("The token is already assigned to another user.")
        realm_id = realm_id if realm_id is not None else self._realm(session, user.realm).id
        token.row.owners.append(_owner(user, realm_id))
        if pin is not None:
            token.set_pin(pin)

    def unassign(self, session: Session, serial: str) -> None:
        """Remove the owner; the PIN and fail counter are reset, as the spec says."""
        token = self.get(session, serial)
        token.row.owners.clear()
        token.row.pin_hash = token.row.pin_enc = None
        token.row.failcount = 0
        token.row.failcount_exceeded_at = None

    def copy_user(self, session: Session, source: str, target: str) -> None:
        """Give ``target`` the owner of ``source`` (replacing its own)."""
        owners = self.get(session, source).row.owners
        if not owners:
            raise TokenError(f"The token {source} has no user to copy.")
        row = self._unlocked(session, target).row
        row.owners.clear()
        session.flush()
        row.owners.extend(TokenOwner(realm_id=o.realm_id, resolver=o.resolver, user_id=o.user_id) for o in owners)

    # ---- state ---------------------------------------------------------------------------

    def _unlocked(self, session: Session, serial: str) -> TokenClass:
        token = self.get(session, serial)
        if token.row.locked or token.row.revoked:
            raise TokenError("This action is not possible, since the token is locked")
        return token

    def enable(self, session: Session, serial: str, enabled: bool = True) -> None:
        self._unlocked(session, serial).row.active = enabled

    def revoke(self, session: Session, serial: str) -> None:
        row = self.get(session, serial).row
        row.revoked = row.locked = True
        row.active = False

    def reset(self, session: Session, serial: str) -> None:
        row = self.get(session, serial).row
        row.failcount = 0
        row.failcount_exceeded_at = None

    def set_pin(self, session: Session, serial: str, pin: str, *, encrypt: bool = False) -> None:
        self._unlocked(session, serial).set_pin(pin, encrypt=encrypt)

    def set_user_pin(self, session: Session, serial: str, pin: str) -> None:
        """The second PIN some types keep encrypted (the mOTP PIN)."""
        token = self._unlocked(session, serial)
        token.row.user_pin_enc = self.security.encrypt(pin.encode(), context=token._context("userpin"))

    def set_so_pin(self, session: Session, serial: str, pin: str) -> None:
        token = self._unlocked(session, serial)
        token.row.so_pin_enc = self.security.encrypt(pin.encode(), context=token._context("sopin"))

    def copy_pin(self, session: Session, source: str, target: str) -> None:
        """Give ``target`` the OTP PIN of ``source`` without anybody learning it."""
        _copy_pin(self.get(session, source), self._unlocked(session, target))

    def resync(self, session: Session, serial: str, otp1: str, otp2: str) -> bool:
        """Move the counter after two consecutive values found within the sync window."""
        token = self._unlocked(session, serial)
        matched = token.resync(otp1, otp2)
        return matched is not None and token.consume(session, matched)

    def set_properties(self, session: Session, serial: str, params: Mapping[str, Any]) -> int:
        """``/token/set``: description, limits, windows, validity period, auth counters;
        returns how many attributes were set."""
        token = self._unlocked(session, serial)
        row = token.row
        done = 0
        if "description" in params:
            row.description = str(params["description"])[:255]
            done += 1
        for key, column in (("max_failcount", "maxfail"), ("count_window", "count_window"),
                            ("sync_window", "sync_window")):
            if key in params:
                setattr(row, column, param_int(params, key, getattr(row, column)))
                done += 1
        for key in ("count_auth_max", "count_auth_success_max"):
            if key in params:
                token.set_info(key, param_int(params, key, 0))
                done += 1
        if "hashlib" in params and token.info("hashlib") is not None:
            name = str(params["hashlib"]).lower()
            if name not in HASHLIBS:
                raise ParameterError(f"hashlib must be one of {', '.join(HASHLIBS)}")
            token.set_info("hashlib", name)
            done += 1
        return done + self._set_validity(token, params)

    def set_description(self, session: Session, serial: str, description: str) -> None:
        self._unlocked(session, serial).row.description = description[:255]

    def set_realms(self, session: Session, serial: str, realms: list[str]) -> None:
        row = orm_of(self.get(session, serial).row)
        row.realms = [self._realm(session, name) for name in dict.fromkeys(realms)]

    def set_info(self, session: Session, serial: str, key: str, value: str) -> None:
        self._unlocked(session, serial).set_info(key, value)

    def delete_info(self, session: Session, serial: str, key: str) -> None:
        self._unlocked(session, serial).del_info(key)

    def set_groups(self, session: Session, serial: str, names: list[str], *, add: bool = False) -> None:
        """Put the token into the named groups: instead of its groups, or (``add``) too."""
        row = orm_of(self.get(session, serial).row)
        groups = session.scalars(select(TokenGroup).where(TokenGroup.name.in_(names))).all()
        missing = sorted(set(names) - {g.name for g in groups})
        if missing:
            raise ParameterError(f"token group {missing[0]!r} does not exist")
        row.groups = ([g for g in row.groups if g.name not in names] if add else []) + list(groups)

    def remove_group(self, session: Session, serial: str, name: str) -> None:
        row = orm_of(self.get(session, serial).row)
        row.groups = [g for g in row.groups if g.name != name]

    def delete(self, session: Session, serial: str) -> None:
        session.delete(self.get(session, serial).row)

    def lost(self, session: Session, serial: str, *, length: int = LOST_PASSWORD_LENGTH,
             valid_days: int = LOST_TOKEN_DAYS, contents: str | None = None) -> dict[str, Any]:
        """A temporary password token for a user who lost theirs; the old one is disabled.
        ``contents``: the password's characters (``losttoken_PW_contents``: c, C, n, s, 8)."""
        old = self._unlocked(session, serial)
        if not old.row.owners:
            raise TokenError("You can only define a lost token for an assigned token.")
        # C (uppercase) is part of c (letters) in the contents syntax of generate_code
        password = generate_code(length, "+" + contents.replace("C", "c")) if contents else random_password(length)
        new_serial = f"lost{serial}"[:40]
        new, _ = self.init(session, {"type": "pw", "serial": new_serial, "otpkey": password})
        owner = old.row.owners[0]
        new.row.owners.append(TokenOwner(realm_id=owner.realm_id, resolver=owner.resolver, user_id=owner.user_id))
        _copy_pin(old, new)
        end = (utc_datetime(self.clock) + timedelta(days=valid_days)).strftime(VALIDITY_FORMAT)
        new.set_info("validity_period_end", end)
        old.row.active = False
        return {"serial": new_serial, "password": password, "end_date": end, "valid_to": end,
                "init": True, "disable": 1, "pin": bool(old.row.pin_hash or old.row.pin_enc)}

    # ---- listing ---------------------------------------------------------------------------

    def _filtered(self, query: Select[Any], wanted: TokenFilter) -> Select[Any]:
        if wanted.serial:
            query = query.where(_matching(Token.serial, wanted.serial))
        if wanted.tokentype:
            query = query.where(_matching(func.lower(Token.tokentype), wanted.tokentype.lower()))
        if wanted.description:
            query = query.where(_matching(Token.description, wanted.description))
        if wanted.rollout_state:
            query = query.where(_matching(Token.rollout_state, wanted.rollout_state))
        if wanted.active is not None:
            query = query.where(Token.active.is_(wanted.active))
        if wanted.assigned is not None:
            owned = select(TokenOwner.token_id)
            query = query.where(Token.id.in_(owned) if wanted.assigned else Token.id.not_in(owned))
        if wanted.user is not None:
            query = query.where(Token.id.in_(_owned_by(wanted.user)))
        if wanted.realm is not None:
            query = query.where(_in_realms([wanted.realm]))
        if wanted.visible_realms is not None:
            query = query.where(_in_realms(wanted.visible_realms))
        if wanted.infokey:
            info = TokenInfo.key == wanted.infokey
            if wanted.infovalue is not None:
                info = info & _matching(TokenInfo.value, wanted.infovalue)
            query = query.where(Token.info.any(info))
        return query

    def ids(self, wanted: TokenFilter) -> Select[Any]:
        """The ids of the tokens ``wanted`` selects, as a subquery."""
        return self._filtered(select(Token.id), wanted)

    def list(self, session: Session, wanted: TokenFilter, *, page: int = 1, pagesize: int = 15,
             sortby: str = "serial", descending: bool = False) -> TokenPage:
        pagesize = max(1, min(pagesize, MAX_PAGE_SIZE))
        page = max(page, 1)
        count = session.scalar(self._filtered(select(func.count(Token.id)), wanted)) or 0
        column = getattr(Token, sortby if sortby in SORT_COLUMNS else "serial")
        query = self._filtered(select(Token), wanted).order_by(column.desc() if descending else column, Token.id)
        rows = session.scalars(query.offset((page - 1) * pagesize).limit(pagesize).options(*_LOADED)).all()
        env = self.env(session)
        tokens = [token_class(row.tokentype)(row, env) for row in rows]
        last = (count + pagesize - 1) // pagesize
        return TokenPage(tokens, count, page, page - 1 if page > 1 else None, page + 1 if page < last else None)


def _copy_pin(source: TokenClass, target: TokenClass) -> None:
    """An encrypted PIN is bound to its token's serial, so it is encrypted anew."""
    encrypted = source.row.pin_enc
    if encrypted is not None:
        plain = source.env.security.decrypt(encrypted, context=source._context("pin"))
        encrypted = target.env.security.encrypt(plain, context=target._context("pin"))
    target.row.pin_enc, target.row.pin_hash = encrypted, source.row.pin_hash


def _checked_serial(serial: str) -> str:
    if len(serial) > 40 or not serial.replace("-", "").replace("_", "").isalnum():
        raise ParameterError("serial must be up to 40 letters, digits, - or _")
    return serial


def _column_values(obj: Any) -> dict[str, Any]:
    """The column attributes set on a new ORM object (those not set take their defaults)."""
    state = inspect(obj)
    return {attr.key: state.dict[attr.key] for attr in state.mapper.column_attrs if attr.key in state.dict}


def _owner(user: User, realm_id: int) -> TokenOwner:
    return TokenOwner(realm_id=realm_id, resolver=user.resolver, user_id=user.uid)


def _owned_by(user: User) -> Select[Any]:
    return select(TokenOwner.token_id).where(owner_is(user))


def _in_realms(names: Collection[str]) -> Any:
    realm_ids = select(Realm.id).where(Realm.name.in_([name.lower() for name in names]))
    return or_(Token.id.in_(select(TokenOwner.token_id).where(TokenOwner.realm_id.in_(realm_ids))),
               Token.realms.any(Realm.id.in_(realm_ids)))


def _matching(column: Any, text: str) -> Any:
    """``*`` is the only wildcard: SQL's own (% and _) match literally."""
    if "*" not in text:
        return column == text
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
    return column.like(escaped, escape="\\")


def realm_names(token: TokenClass) -> list[str]:
    """The realms a token is in: its owner's and its token realms."""
    return sorted({o.realm.name for o in token.row.owners} | {r.name for r in token.row.realms})


def describe(token: TokenClass) -> dict[str, Any]:
    """A token as ``/token/`` lists it (no secrets, PIN or seed)."""
    row = token.row
    owner = row.owners[0] if row.owners else None
    return {
        "id": row.id, "serial": row.serial, "tokentype": row.tokentype, "description": row.description,
        "active": row.active, "revoked": row.revoked, "locked": row.locked,
        "failcount": row.failcount, "maxfail": row.maxfail, "otplen": row.otplen,
        "count": row.count, "count_window": row.count_window, "sync_window": row.sync_window,
        "rollout_state": row.rollout_state, "info": token.info_dict(),
        "user_id": owner.user_id if owner else "", "resolver": owner.resolver if owner else "",
        "realms": realm_names(token), "tokengroup": sorted(g.name for g in row.groups),
    }
