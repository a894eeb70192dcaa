"""A token row read without the ORM, for the authentication engine's hot path.

Building an ORM object per token costs more than the rest of a token's check, so the engine
reads the columns with a plain query and wraps them in a TokenRecord. Its attributes are
``Token``'s columns, read-only: the engine changes counters by statement (``settle`` keeps
the record in step), and what changes a token's info, owners, realms or groups works on
the ORM object, which these properties load from the same session the first time it is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from tesserad.core.store.models import Realm, Token, TokenGroup, TokenInfo, TokenOwner


class TokenRecord:
    # Token's columns, for the type checker (tests/tokens/test_record.py keeps them in step).
    id: int
    serial: str
    tokentype: str
    description: str
    otplen: int
    secret_enc: bytes | None
    pin_hash: str | None
    pin_enc: bytes | None
    user_pin_enc: bytes | None
    so_pin_enc: bytes | None
    count: int
    count_window: int
    sync_window: int
    maxfail: int
    failcount: int
    failcount_exceeded_at: datetime | None
    count_auth: int
    count_auth_success: int
    active: bool
    revoked: bool
    locked: bool
    rollout_state: str
    created_at: datetime
    last_auth_at: datetime | None
    _session: Session

    def __init__(self, session: Session, columns: Mapping[str, Any]):
        self.__dict__.update(columns)
        self.__dict__["_session"] = session

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{name}: a token read without the ORM is changed by statements")

    @property
    def info(self) -> list[TokenInfo]:
        """The ORM collection of the token's info, to change it."""
        return self.orm().info

    @property
    def owners(self) -> list[TokenOwner]:
        return self.orm().owners

    @property
    def realms(self) -> list[Realm]:
        return self.orm().realms

    @property
    def groups(self) -> list[TokenGroup]:
        return self.orm().groups

    def orm(self) -> Token:
        """The token's ORM object in the record's session, loaded on first use and held here
        (the session holds its objects weakly, and changes need the object alive)."""
        token = self.__dict__.get("_orm")
        if token is None:
            token = self._session.get(Token, self.id)
            if token is None:
                raise LookupError(f"token {self.serial} was deleted meanwhile")
            self.__dict__["_orm"] = token
        return token


def orm_of(row: Token | TokenRecord) -> Token:
    """The ORM object of a token row, to assign its relationships."""
    return row if isinstance(row, Token) else row.orm()


def settle(row: Token | TokenRecord, name: str, value: Any) -> None:
    """Keep ``row`` in step with a value a statement has written already, without making
    the session write it a second time."""
    if isinstance(row, TokenRecord):
        row.__dict__[name] = value
    else:
        set_committed_value(row, name, value)


def forget(session: Session, row: Token | TokenRecord) -> None:
    """Drop the ORM object of a token a statement has deleted from the session, so that
    nothing writes it back."""
    token = row if isinstance(row, Token) else session.identity_map.get(identity_key(Token, row.id))
    if token is not None and token in session:
        session.expunge(token)
