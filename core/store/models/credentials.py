"""Which token holds a WebAuthn credential, found by the credential alone.

A usernameless (passkey) login names no user: the authenticator's answer carries only the
credential id. This table finds the token by the SHA-256 of that id (unique, so one
credential can never belong to two tokens) without reading every token's info.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tesserad.core.store.models.base import Base


class TokenCredential(Base):
    __tablename__ = "token_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Hex SHA-256 of the raw credential id.
    credential_id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("token.id", ondelete="CASCADE"), index=True)
