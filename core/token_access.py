"""Which tokens an API caller may act on, and how a token is shown to it.

An admin acts on a token with a right granted for every one of the token's targets: its
owner (user, resolver, realm) and each of its token realms; a token in no realm is a
target in realm "" (``rights``: only an admin bound to no realm). So a token shared with
another realm, or owned by a user of another realm, is out of reach of an admin of one
realm. A user acts only on own tokens, with the user right of the action; another user's
token is reported as not existing, so serials of others cannot be probed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tesserad.core.rights import Rights, Target
from tesserad.core.tokens.base import ParameterError, TokenClass, TokenNotFound
from tesserad.core.tokens.ownership import owns
from tesserad.core.tokens.service import TokenService, describe
from tesserad.core.users.base import ResolverError, User
from tesserad.core.users.directory import Directory

TOKEN_COLUMNS = ("serial", "tokentype", "description", "otplen", "count", "count_window", "sync_window",
                 "maxfail", "failcount", "active", "revoked", "locked", "rollout_state")


class Services(Protocol):
    """What token access and enrollment read besides the policies: the tokens and the user
    store. The core Context has them; the authentication engine, which has no Context,
    hands its own to the steps of a login that enroll or set PINs."""

    tokens: TokenService
    directory: Directory


class TokenAccess:
    """The tokens of one API call, seen through the caller's rights."""

    def __init__(self, session: Session, ctx: Services, rights: Rights):
        self.session = session
        self.ctx = ctx
        self.rights = rights
        self._users: dict[tuple[str, str, str], User] = {}

    @property
    def identity_is_admin(self) -> bool:
        return self.rights.identity.is_admin

    def owner(self, token: TokenClass) -> User | None:
        """The token's user, with today's login (cached for the call)."""
        if not token.row.owners:
            return None
        owner = token.row.owners[0]
        key = (owner.realm.name, owner.resolver, owner.user_id)
        if key not in self._users:
            self._users[key] = self.ctx.directory.user_from_owner(self.session, *key)
        return self._users[key]

    def targets(self, token: TokenClass) -> list[Target]:
        """What an admin needs the right in for ``token``: its owner and every token realm."""
        row = token.row
        def columns() -> dict[str, Any]:
            return {name: getattr(row, name) for name in TOKEN_COLUMNS}

        owner = self.owner(token)
        found = [Target.of_user(owner, token=columns, tokeninfo=token.info_dict)] if owner is not None else []
        found += [Target(realm=realm.name, token=columns, tokeninfo=token.info_dict) for realm in row.realms
                  if owner is None or realm.name != owner.realm]
        return found or [Target(token=columns, tokeninfo=token.info_dict)]

    def owned(self, token: TokenClass) -> bool:
        return owns(token.row.owners, self.rights.identity.user)

    def check(self, token: TokenClass, action: str, user_action: str = "") -> None:
        """Raise unless the caller may ``action`` on ``token``. Users need the token to be
        theirs and the user right ``user_action`` (default: the same name)."""
        if self.identity_is_admin:
            self.rights.require(action, self.targets(token))
            return
        if not self.owned(token):
            raise TokenNotFound(f"The token with serial {token.serial} does not exist")
        self.rights.require(user_action or action)

    def get(self, serial: str, action: str, user_action: str = "") -> TokenClass:
        token = self.ctx.tokens.get(self.session, serial)
        self.check(token, action, user_action)
        return token

    def selected(self, serial: str | None, user: User | None, action: str,
                 user_action: str = "") -> list[TokenClass]:
        """The token ``serial``, else all tokens of ``user`` (a user: its own), each checked."""
        if serial:
            return [self.get(serial, action, user_action)]
        if user is None:
            raise ParameterError("missing parameter: serial or user")
        tokens = self.ctx.tokens.tokens_of(self.session, user)
        if self.identity_is_admin:
            self.rights.require(action, [Target.of_user(user)])
        for token in tokens:
            self.check(token, action, user_action)
        return tokens

    def visible_realms(self) -> Collection[str] | None:
        """The realms whose tokens an admin may list (None: all tokens)."""
        return self.rights.realms("tokenlist", self.ctx.directory.list_realms(self.session))

    def show(self, token: TokenClass) -> dict[str, Any]:
        """The token as /token/ lists it, with its user and without hidden tokeninfo."""
        shown = describe(token)
        hidden = self.rights.words("hide_tokeninfo")
        shown["info"] = {k: v for k, v in shown["info"].items() if k not in hidden}
        user = self.owner(token)
        shown["username"] = user.login if user else ""
        shown["user_realm"] = user.realm if user else ""
        shown["user_editable"] = bool(user and self._editable(user.resolver))
        return shown

    def _editable(self, resolver: str) -> bool:
        try:
            return self.ctx.directory.resolver(self.session, resolver).editable
        except ResolverError:
            return False
