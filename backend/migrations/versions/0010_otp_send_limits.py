"""OTP send limits and contact locks: the client's keyed hash on each challenge, contact locks

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import backend.models.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "otp_contact_locks",
        sa.Column("destination_kind", sa.String(length=8), nullable=False),
        sa.Column("destination_bidx", sa.String(length=64), nullable=False),
        sa.Column("locked_until", backend.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", backend.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otp_contact_locks")),
    )
    with op.batch_alter_table("otp_contact_locks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_otp_contact_locks_destination_bidx"), ["destination_bidx"], unique=False
        )
    # A keyed hash (blind index) of the client's address: the address itself is never stored.
    with op.batch_alter_table("otp_challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_bidx", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_otp_challenges_client_bidx"), ["client_bidx"], unique=False)
        batch_op.create_index(batch_op.f("ix_otp_challenges_chat_key"), ["chat_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_otp_challenges_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("otp_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_otp_challenges_created_at"))
        batch_op.drop_index(batch_op.f("ix_otp_challenges_chat_key"))
        batch_op.drop_index(batch_op.f("ix_otp_challenges_client_bidx"))
        batch_op.drop_column("client_bidx")
    with op.batch_alter_table("otp_contact_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_otp_contact_locks_destination_bidx"))
    op.drop_table("otp_contact_locks")
