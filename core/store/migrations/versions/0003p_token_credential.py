"""Passkeys: find the token of a WebAuthn credential by the SHA-256 of its id.

Revision ID: 0003p_token_credential
Revises: 0002_login_failure
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003p_token_credential"
down_revision: str | Sequence[str] | None = "0003_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_id_hash", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["token.id"], name=op.f("fk_token_credential_token_id_token"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_credential")),
        sa.UniqueConstraint("credential_id_hash", name=op.f("uq_token_credential_credential_id_hash")),
    )
    op.create_index(op.f("ix_token_credential_token_id"), "token_credential", ["token_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_token_credential_token_id"), table_name="token_credential")
    op.drop_table("token_credential")
