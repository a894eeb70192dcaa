"""Token lifecycle: init, assign, enable, revoke, resync, PIN, properties, realms, delete, list.

The REST resources, the CLI and the UI all manage tokens through these functions; they
take a session and leave the commit to the caller, so one API call is one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from tesserad.core.clock import Clock, utc_datetime
from tesserad.core.security.base import SecurityModule
from tesserad.core.security.hashing import SecretHasher
from tesserad.core.store.models import Realm, Token, TokenInfo, TokenOwner
from tesserad.core.sysconfig import SystemConfig
from tesserad.core.tokens.base import (VALIDITY_FORMAT, ParameterError, TokenClass, TokenEnv, TokenError,
                                       TokenNotFound, param_bool, param_int)
from tesserad.core.tokens.pw import random_password
from tesserad.core.tokens.registry import token_class
from tesserad.core.users.base import User

LOST_TOKEN_DAYS = 10
LOST_PASSWORD_LENGTH = 16
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class TokenPage:
    tokens: list[dict[str, Any]]
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
        row = session.scalar(select(Token).where(Token.serial == serial)
                             .options(selectinload(Token.info), selectinload(Token.owners)))
        if row is None:
            raise TokenNotFound(f"The token with serial {serial} does not exist")
        return token_class(row.tokentype)(row, self.env(session))

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
        serial = str(params.get("serial") or "") or self.new_serial(session, cls.prefix)
        if len(serial) > 40 or not serial.replace("-", "").replace("_", "").isalnum():
            raise ParameterError("serial must be up to 40 letters, digits, - or _")
        row = session.scalar(select(Token).where(Token.serial == serial).options(selectinload(Token.info)))
        if row is None:
            settings = self.sysconfig.settings(session)
            row = Token(serial=serial, tokentype=cls.type, otplen=settings.DefaultOtpLen,
                        count_window=settings.DefaultCountWindow, sync_window=settings.DefaultSyncWindow,
                        maxfail=settings.DefaultMaxFailCount, created_at=utc_datetime(self.clock), info=[])
            session.add(row)
        elif row.tokentype != cls.type:
            raise TokenError(f"Token {serial} already exists with type {row.tokentype}; "
                             f"it cannot be initialized as {cls.type}")
        token = cls(row, self.env(session))
        detail = token.enroll(params)
        if "pin" in params:
            token.set_pin(str(params["pin"]), encrypt=param_bool(params, "encryptpin"))
        self._set_validity(token, params)
        session.flush()
        if user is not None:
            self.assign(session, serial, user, realm_id=realm_id)
        detail["serial"] = serial
        detail["rollout_state"] = row.rollout_state
        return token, detail

    def _set_validity(self, token: TokenClass, params: Mapping[str, Any]) -> None:
        for key in ("validity_period_start", "validity_period_end"):
            if params.get(key):
                try:
                    datetime.strptime(str(params[key]), VALIDITY_FORMAT)
                except ValueError:
                    raise ParameterError(f"{key} must look like 2026-01-31T18:00+0100") from None
                token.set_info(key, params[key])

    # ---- ownership -------------------------------------------------------------------------

    def _realm_id(self, session: Session, name: str) -> int:
        realm_id = session.scalar(select(Realm.id).where(Realm.name == name.lower()))
        if realm_id is None:
            raise ParameterError(f"realm {name!r} does not exist")
        return realm_id

    def assign(self, session: Session, serial: str, user: User, *, pin: str | None = None,
               realm_id: int | None = None) -> None:
        if not user.exists:
            raise ParameterError(f"user {user} does not exist")
        token = self.get(session, serial)
        if token.row.owners:
            raise TokenError("The token is already assigned to another user.")
        realm_id = realm_id if realm_id is not None else self._realm_id(session, user.realm)
        token.row.owners.append(TokenOwner(realm_id=realm_id, resolver=user.resolver, user_id=user.uid))
        if pin is not None:
            token.set_pin(pin)

    def unassign(self, session: Session, serial: str) -> None:
        """Remove the owner; the PIN and fail counter are reset, as the spec says."""
        token = self.get(session, serial)
        token.row.owners.clear()
        token.row.pin_hash = token.row.pin_enc = None
        token.row.failcount = 0
        token.row.failcount_exceeded_at = None

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

    def resync(self, session: Session, serial: str, otp1: str, otp2: str) -> bool:
        """Move the counter after two consecutive values found within the sync window."""
        token = self._unlocked(session, serial)
        matched = token.resync(otp1, otp2)
        return matched is not None and token.consume(session, matched)

    def set_properties(self, session: Session, serial: str, params: Mapping[str, Any]) -> None:
        """``/token/set``: description, limits, windows, validity period, auth counters."""
        token = self._unlocked(session, serial)
        row = token.row
        if "description" in params:
            row.description = str(params["description"])[:255]
        for key in ("maxfail", "count_window", "sync_window"):
            if key in params:
                setattr(row, key, param_int(params, key, getattr(row, key)))
        for key in ("count_auth_max", "count_auth_success_max"):
            if key in params:
                token.set_info(key, param_int(params, key, 0))
        if "hashlib" in params and token.info("hashlib") is not None:
            token.set_info("hashlib", str(params["hashlib"]).lower())
        self._set_validity(token, params)

    def set_realms(self, session: Session, serial: str, realms: list[str]) -> None:
        row = self.get(session, serial).row
        row.realms = [session.get(Realm, self._realm_id(session, name)) for name in realms]  # type: ignore[misc]

    def delete(self, session: Session, serial: str) -> None:
        session.delete(self.get(session, serial).row)

    def lost(self, session: Session, serial: str) -> dict[str, Any]:
        """A temporary password token for a user who lost theirs; the old one is disabled."""
        old = self._unlocked(session, serial)
        if not old.row.owners:
            raise TokenError("You can only define a lost token for an assigned token.")
        password = random_password(LOST_PASSWORD_LENGTH)
        new_serial = f"lost{serial}"[:40]
        new, _ = self.init(session, {"type": "pw", "serial": new_serial, "otpkey": password})
        owner = old.row.owners[0]
        new.row.owners.append(TokenOwner(realm_id=owner.realm_id, resolver=owner.resolver, user_id=owner.user_id))
        new.row.pin_hash, new.row.pin_enc = old.row.pin_hash, old.row.pin_enc
        end = utc_datetime(self.clock) + timedelta(days=LOST_TOKEN_DAYS)
        new.set_info("validity_period_end", end.strftime(VALIDITY_FORMAT))
        old.row.active = False
        return {"serial": new_serial, "password": password, "end_date": end.strftime(VALIDITY_FORMAT),
                "init": True, "disable": 1, "pin": bool(old.row.pin_hash or old.row.pin_enc)}

    # ---- listing ---------------------------------------------------------------------------

    def _filtered(self, query: Select[Any], filters: Mapping[str, Any]) -> Select[Any]:
        if filters.get("serial"):
            query = query.where(Token.serial.like(str(filters["serial"]).replace("*", "%")))
        if filters.get("type"):
            query = query.where(func.lower(Token.tokentype) == str(filters["type"]).lower())
        if filters.get("description"):
            query = query.where(Token.description.like(str(filters["description"]).replace("*", "%")))
        if "active" in filters and filters["active"] not in (None, ""):
            query = query.where(Token.active.is_(param_bool(filters, "active")))
        if "assigned" in filters and filters["assigned"] not in (None, ""):
            owned = select(TokenOwner.token_id)
            query = query.where(Token.id.in_(owned) if param_bool(filters, "assigned")
                                else Token.id.not_in(owned))
        if filters.get("user"):
            user: User = filters["user"]
            query = query.where(Token.id.in_(select(TokenOwner.token_id).where(
                TokenOwner.resolver == user.resolver, TokenOwner.user_id == user.uid)))
        if filters.get("realms") is not None:
            realm_ids = select(Realm.id).where(Realm.name.in_([r.lower() for r in filters["realms"]]))
            query = query.where(or_(
                Token.id.in_(select(TokenOwner.token_id).where(TokenOwner.realm_id.in_(realm_ids))),
                Token.realms.any(Realm.id.in_(realm_ids))))
        if filters.get("tokeninfo"):
            key, _, value = str(filters["tokeninfo"]).partition("=")
            query = query.where(Token.info.any((TokenInfo.key == key) & (TokenInfo.value == value)))
        return query

    def list(self, session: Session, filters: Mapping[str, Any], *, page: int = 1, pagesize: int = 15,
             sortby: str = "serial", descending: bool = False) -> TokenPage:
        pagesize = max(1, min(pagesize, MAX_PAGE_SIZE))
        page = max(page, 1)
        count = session.scalar(self._filtered(select(func.count(Token.id)), filters)) or 0
        column = getattr(Token, sortby, None) if sortby in {"serial", "tokentype", "description", "id",
                                                             "failcount", "active"} else None
        order = (column if column is not None else Token.serial)
        query = self._filtered(select(Token), filters).order_by(order.desc() if descending else order)
        rows = session.scalars(query.offset((page - 1) * pagesize).limit(pagesize)
                               .options(selectinload(Token.info), selectinload(Token.owners),
                                        selectinload(Token.realms))).all()
        env = self.env(session)
        tokens = [describe(token_class(row.tokentype)(row, env)) for row in rows]
        last = (count + pagesize - 1) // pagesize
        return TokenPage(tokens, count, page, page - 1 if page > 1 else None, page + 1 if page < last else None)


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
        "realms": sorted(r.name for r in row.realms),
    }


