"""The tokens of a realm confirming a 4eyes token (core/tokens/foureyes.py), for one request.

A value confirms the token of the realm whose PIN and OTP value it is. The OTP part is
checked first (a few HMACs); the PIN only of a token whose OTP matched, as its owner's
``otppin`` policy says (a costly PIN is never checked for nothing). The value is then used
up by the same conditional UPDATE as a login, so it confirms at most once, also across
processes, and counts as that token's success; a right OTP with a wrong PIN counts as that
token's failure. Disabled, revoked and locked tokens, and other 4eyes tokens, never confirm.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tesserad.core.auth import counters
from tesserad.core.store.models import Token, TokenOwner
from tesserad.core.tokens.base import TokenClass, TokenEnv
from tesserad.core.tokens.registry import token_class
from tesserad.core.tokens.service import TokenFilter
from tesserad.core.users.base import User

if TYPE_CHECKING:
    from tesserad.core.auth.engine import Engine, RequestState


class RealmConfirmations:
    """``TokenEnv.realm_tokens`` of one request: the realms' tokens are read once, on first use."""

    def __init__(self, engine: Engine, session: Session, client: str):
        self._engine = engine
        self._session = session
        self._client = client
        self._env: TokenEnv | None = None
        self._realms: dict[str, list[TokenClass]] = {}

    def confirm(self, realm: str, block: str, exclude: Collection[str],
                people: Collection[tuple[str, str]]) -> str | None:
        for token in self._tokens(realm):
            if token.serial in exclude or any((o.resolver, o.user_id) in people for o in token.row.owners):
                continue
            pin, otp = token.split_pin(block)
            matched = token.check_otp(otp)
            if matched < 0:
                continue
            state = self._owner_state(token, realm)
            if not self._engine.pin_ok(self._session, state, token, pin):
                counters.record_failure(self._session, [token.row.id], state.now, count_auth=state.count_auth)
                continue
            if token.validity_problem(state.now) is None and token.consume(self._session, matched, state.success):
                return token.serial
        return None

    def _tokens(self, realm: str) -> list[TokenClass]:
        tokens = self._realms.get(realm)
        if tokens is None:
            service = self._engine.services.tokens
            if self._env is None:
                self._env = service.env(self._session)
            rows = self._session.scalars(
                select(Token).where(Token.id.in_(service.ids(TokenFilter(realm=realm))),
                                    Token.tokentype != "4eyes", Token.active.is_(True), Token.revoked.is_(False),
                                    Token.locked.is_(False)).order_by(Token.serial)
                .options(selectinload(Token.info), selectinload(Token.owners).selectinload(TokenOwner.realm)))
            tokens = self._realms[realm] = [token_class(row.tokentype)(row, self._env) for row in rows]
        return tokens

    def _owner_state(self, token: TokenClass, realm: str) -> RequestState:
        """The request state of the token's owner (their policies decide how the PIN is
        checked); of nobody in ``realm`` for a token without owner."""
        owners = token.row.owners
        directory = self._engine.directory
        user = (directory.user_from_owner(self._session, owners[0].realm.name, owners[0].resolver, owners[0].user_id)
                if owners else User("", realm))
        return self._engine.state_for(self._session, user, self._client)
