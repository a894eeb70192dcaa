"""API sessions: who is calling (``Identity``) and the JWT that carries it between requests.

privacyIDEA clients send the token from ``POST /auth`` back in ``PI-Authorization`` or
``Authorization`` (no scheme). The token is HS256-signed with a key derived from the
install's key file through the security module, so every process and every node that shares
the keys accepts it, and no signing secret lives in the configuration. Expiry is checked
against the injected clock.

API keys (``tesserad-manage api createtoken``) are such tokens with a long lifetime and
``authtype`` API: role ``validate`` for ``/validate/*`` under ``api_key_required``, or role
admin for scripts; they are bound to no account.

A login token names the account it was issued for, and ``check_current`` (once per API
call) ends it when that account is no longer the same: a local admin's token carries a
*generation*, an HMAC (under a key of the security module) over the admin's record id and
password hash, so changing the password, deactivating, or deleting and re-creating the
admin ends every earlier token; no secret is in the token, and the hash cannot be recovered
from it. A realm user's (or superuser-realm admin's) token carries the resolver and user
id, and the login must still name that entry in that realm: deleting the user, moving it
out of the realm or re-creating it under a new id ends the token. A password change in an
external store (LDAP, passwd, SQL) is not seen by tesserad: such a token lives until it
expires (``web.session_lifetime``).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from tesserad.core.clock import Clock
from tesserad.core.errors import TesseraError
from tesserad.core.security.base import SecurityModule
from tesserad.core.store.models import Admin
from tesserad.core.users.base import User
from tesserad.core.users.directory import Directory

ADMIN, USER, VALIDATE = "admin", "user", "validate"
ROLES = (ADMIN, USER, VALIDATE)
API_KEY = "API"  # the authtype of API keys: not bound to an admin account
ALGORITHM = "HS256"
ENDED = "Authentication failure. This session has ended (the account changed); log in again."
# privacyIDEA's AuthError ids: every one is answered with HTTP 401.
WRONG_CREDENTIALS, MISSING_HEADER, DECODING_ERROR, TOKEN_EXPIRED, MISSING_RIGHT = 4031, 4033, 4304, 4305, 4306


class AuthError(TesseraError):
    """Authentication to the API failed; ``detail`` goes into the response (a challenge
    for the second login step, for instance)."""

    def __init__(self, message: str, *, code: int = WRONG_CREDENTIALS, detail: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.detail = dict(detail) if detail else None


@dataclass(frozen=True)
class Identity:
    """The caller of an API request. Local admins have realm ""; admins from a superuser
    realm and users carry their realm, resolver and user id."""

    role: str
    username: str
    realm: str = ""
    resolver: str = ""
    uid: str = ""
    authtype: str = "password"
    # A local admin's account generation (see the module doc); "" for everybody else.
    generation: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_local_admin(self) -> bool:
        """A login of an admin from the store's admin table (not an API key)."""
        return self.is_admin and not self.realm and self.authtype != API_KEY

    @property
    def user(self) -> User:
        """The caller as a user of its realm (for user-scope policies and own tokens)."""
        return User(self.username, self.realm, self.resolver, self.uid)


class Sessions:
    """Issues and checks API tokens."""

    def __init__(self, security: SecurityModule, clock: Clock, lifetime: int):
        self._security = security
        self._key = security.hmac(b"API session tokens", purpose="jwt-hs256")
        self._clock = clock
        self.lifetime = lifetime

    def issue(self, identity: Identity, rights: list[str], *, lifetime: int | None = None) -> str:
        now = int(self._clock.now())
        claims = {"username": identity.username, "realm": identity.realm, "resolver": identity.resolver,
                  "uid": identity.uid, "role": identity.role, "authtype": identity.authtype,
                  "generation": identity.generation,
                  "nonce": secrets.token_hex(16), "iat": now, "exp": now + (lifetime or self.lifetime),
                  "rights": rights}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def issue_api_key(self, role: str, username: str, realm: str, days: int) -> str:
        """A long-lived token for a program (privacyIDEA's ``pi-manage api createtoken``)."""
        if role not in (ADMIN, VALIDATE):
            raise AuthError(f"an API key has the role admin or validate, not {role!r}")
        if not 0 < days <= 3650:
            raise AuthError("an API key is valid for 1 to 3650 days")
        return self.issue(Identity(role, username, realm, authtype=API_KEY), [], lifetime=days * 86400)

    def _generation(self, admin_id: int, password_hash: str) -> str:
        return self._security.hmac(f"{admin_id}\0{password_hash}".encode(), purpose="admin-session").hex()[:32]

    def stamped(self, session: Session, identity: Identity) -> Identity:
        """``identity`` with the current generation of its local admin account (others as they are)."""
        if not identity.is_local_admin:
            return identity
        row = session.execute(select(Admin.id, Admin.password_hash)
                              .where(Admin.username == identity.username)).one_or_none()
        return identity if row is None else dataclasses.replace(
            identity, generation=self._generation(row.id, row.password_hash))

    def check_current(self, session: Session, directory: Directory, identity: Identity) -> None:
        """Refuse a token whose account has changed since it was issued (see the module doc):
        one indexed query for a local admin, one user-store lookup for a realm login."""
        if identity.authtype == API_KEY:
            return
        if identity.is_local_admin:
            row = session.execute(select(Admin.id, Admin.password_hash, Admin.active)
                                  .where(Admin.username == identity.username)).one_or_none()
            if row is None:
                raise AuthError("Authentication failure. The administrator of this token no longer exists.",
                                code=DECODING_ERROR)
            if not row.active or identity.generation != self._generation(row.id, row.password_hash):
                raise AuthError(ENDED, code=DECODING_ERROR)
        elif identity.realm:
            user = directory.find_user(session, identity.username, identity.realm)
            if (user.resolver, user.uid) != (identity.resolver, identity.uid):
                raise AuthError(ENDED, code=DECODING_ERROR)

    def verify(self, token: str) -> Identity:
        """The identity in a token this install signed and that has not expired."""
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM],
                                options={"verify_exp": False, "verify_iat": False, "require": ["exp"]})
        except jwt.PyJWTError:
            raise AuthError("Authentication failure. The authorization token is not valid.",
                            code=DECODING_ERROR) from None
        if not isinstance(claims["exp"], int) or claims["exp"] <= self._clock.now():
            raise AuthError("Authentication failure. Your token has expired.", code=TOKEN_EXPIRED)
        try:
            identity = Identity(**{name: claims[name] for name in
                                   ("role", "username", "realm", "resolver", "uid", "authtype")},
                                generation=claims.get("generation", ""))
        except KeyError:
            identity = None
        if identity is None or identity.role not in ROLES or not all(
                isinstance(getattr(identity, name), str)
                for name in ("username", "realm", "resolver", "uid", "generation")):
            raise AuthError("Authentication failure. The authorization token is not valid.", code=DECODING_ERROR)
        return identity

    def from_headers(self, headers: Mapping[str, str]) -> Identity:
        """The identity of a request: ``PI-Authorization`` wins over ``Authorization``;
        a ``Bearer`` prefix is accepted."""
        raw = headers.get("pi-authorization") or headers.get("authorization")
        if not raw:
            raise AuthError("Authentication failure. Missing Authorization header.", code=MISSING_HEADER)
        scheme, _, rest = raw.strip().partition(" ")
        return self.verify(rest.strip() if scheme.lower() == "bearer" and rest else raw.strip())
