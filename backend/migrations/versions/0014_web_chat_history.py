"""web chat history: what each web chat showed, encrypted, for a reload

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend.models.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_chat_messages",
        sa.Column("identity_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("at", backend.models.base.UTCDateTime(timezone=True), nullable=False),
        # Encrypted from the first row (backend/crypto.py FieldCipher, bound to table/column/row).
        sa.Column("body_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["channel_identities.id"],
            name=op.f("fk_web_chat_messages_identity_id_channel_identities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_chat_messages_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_chat_messages")),
    )
    with op.batch_alter_table("web_chat_messages", schema=None) as batch_op:
        batch_op.create_index("ix_web_chat_messages_identity_id_at", ["identity_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_chat_messages_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_chat_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_chat_messages_user_id"))
        batch_op.drop_index("ix_web_chat_messages_identity_id_at")
    op.drop_table("web_chat_messages")
