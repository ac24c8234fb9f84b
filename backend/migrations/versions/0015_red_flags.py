"""red flags: every emergency red flag a chat raised (now or history), and the misses operators
record; categories and texts encrypted

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-11 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend.models.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "red_flags",
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        # Encrypted from the first row (backend/crypto.py FieldCipher, bound to table/column/row).
        sa.Column("category_enc", sa.LargeBinary(), nullable=False),
        sa.Column("history", sa.Boolean(), nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_red_flags_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_red_flags_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_red_flags")),
    )
    with op.batch_alter_table("red_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_red_flags_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_red_flags_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_red_flags_user_id_created_at", ["user_id", "created_at"], unique=False)
    op.create_table(
        "red_flag_misses",
        # The missed message's words: encrypted from the first row too.
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_red_flag_misses")),
    )
    with op.batch_alter_table("red_flag_misses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_red_flag_misses_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("red_flag_misses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_red_flag_misses_created_at"))
    op.drop_table("red_flag_misses")
    with op.batch_alter_table("red_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_red_flags_user_id_created_at")
        batch_op.drop_index(batch_op.f("ix_red_flags_created_at"))
        batch_op.drop_index(batch_op.f("ix_red_flags_conversation_id"))
    op.drop_table("red_flags")
