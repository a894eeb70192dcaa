"""Push through Firebase: find the last outbox message to one recipient (a push token's
device) on a channel without reading the channel's whole history.

Revision ID: 0004fcm_outbox_recipient
Revises: 0003p_token_credential
Create Date: 2026-12-10
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004fcm_outbox_recipient"
down_revision: str | Sequence[str] | None = "0003p_token_credential"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_outbox_message_channel_recipient_id"), "outbox_message", ["channel", "recipient", "id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_message_channel_recipient_id"), table_name="outbox_message")
