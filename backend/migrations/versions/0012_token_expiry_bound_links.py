"""admin tokens expire; download links bound to whom they were made for

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import backend.models.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Tokens issued before this migration get the default lifetime from their creation (a token
# older than that stops working at once; `telecare admin-token create` issues a new one).
EXISTING_TOKEN_DAYS = 30


def _expire_existing_tokens() -> None:
    tokens = sa.table(
        "admin_tokens",
        sa.column("id", sa.String(32)),
        sa.column("created_at", backend.models.base.UTCDateTime(timezone=True)),
        sa.column("expires_at", backend.models.base.UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    # Python date arithmetic: the same on SQLite and PostgreSQL (tokens are few).
    for token_id, created_at in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        bind.execute(
            tokens.update()
            .where(tokens.c.id == token_id)
            .values(expires_at=created_at + timedelta(days=EXISTING_TOKEN_DAYS))
        )


def upgrade() -> None:
    with op.batch_alter_table("admin_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", backend.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    _expire_existing_tokens()
    with op.batch_alter_table("admin_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=backend.models.base.UTCDateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("file_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("admin_token_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("media_fetched_at", backend.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_file_grants_admin_token_id"), ["admin_token_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_file_grants_admin_token_id_admin_tokens"),
            "admin_tokens",
            ["admin_token_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("file_grants", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_file_grants_admin_token_id_admin_tokens"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_file_grants_admin_token_id"))
        batch_op.drop_column("media_fetched_at")
        batch_op.drop_column("admin_token_id")
        batch_op.drop_column("channel")

    with op.batch_alter_table("admin_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
