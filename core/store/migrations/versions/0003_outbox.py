"""The outbox of messages to send (email and SMS OTPs), and implicit TLS for SMTP servers.

Revision ID: 0003_outbox
Revises: 0002_login_failure
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003_outbox"
down_revision: str | Sequence[str] | None = "0002_login_failure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("payload_enc", sa.LargeBinary(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTC_DATETIME, nullable=True),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    op.create_index(op.f("ix_outbox_message_state_next_attempt_at"), "outbox_message",
                    ["state", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_outbox_message_channel_id"), "outbox_message", ["channel", "id"], unique=False)
    with op.batch_alter_table("smtp_server") as batch:
        batch.add_column(sa.Column("implicit_tls", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("smtp_server") as batch:
        batch.drop_column("implicit_tls")
    op.drop_index(op.f("ix_outbox_message_channel_id"), table_name="outbox_message")
    op.drop_index(op.f("ix_outbox_message_state_next_attempt_at"), table_name="outbox_message")
    op.drop_table("outbox_message")
