"""inbox failures: updates finished as failed, with a reason code

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend.models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No user content here: the reason is one of backend.inbox.REASONS; the payload stays
    # encrypted in payload_enc (and is dropped when the row fails).
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_at", backend.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("failure", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_inbox_messages_failed_at"), ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_messages_failed_at"))
        batch_op.drop_column("failure")
        batch_op.drop_column("failed_at")
