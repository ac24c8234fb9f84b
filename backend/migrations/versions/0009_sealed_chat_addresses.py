"""chat addresses encrypted and found by a keyed blind index

Revision ID: 0009
Revises: 0008

`channel_identities.address` and `outbound_messages.address` (WhatsApp numbers, Telegram chat
ids, web session hashes) become `address_enc` (AES-GCM, bound to table, column "address" and row)
and `address_bidx` (HMAC of `channel:address`); `otp_challenges.chat_key` becomes a keyed index of
the chat. Existing rows are converted here, in the migration's transaction, with the key ring
that `telecare migrate` passes (backend/migrate.py); an empty database needs no keys.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from backend.accounts.chats import address_index
from backend.crypto import FieldCipher, blind_index
from backend.migrate import SCRUB, migration_cipher

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ADDRESSED = ("channel_identities", "outbound_messages")
OLD_UNIQUE = "uq_channel_identities_channel_address"
NEW_UNIQUE = "uq_channel_identities_channel_address_bidx"
BATCH = 500


def _table(name: str) -> sa.TableClause:
    return sa.table(
        name,
        sa.column("id", sa.String),
        sa.column("channel", sa.String),
        sa.column("address", sa.String),
        sa.column("address_enc", sa.LargeBinary),
        sa.column("address_bidx", sa.String),
    )


class _LazyCipher:
    """Asks for the key ring only when a row needs it: a fresh database migrates without keys."""

    def __init__(self, why: str) -> None:
        self.why = why
        self._cipher: FieldCipher | None = None

    def __call__(self) -> FieldCipher:
        if self._cipher is None:
            self._cipher = migration_cipher(context.config, self.why)
            # Rows held clear values: have their old copies scrubbed once the migration commits.
            context.config.attributes.setdefault(SCRUB, set()).update((*ADDRESSED, "otp_challenges"))
        return self._cipher


def _convert(table: sa.TableClause, source: list[sa.Column], change: Callable[[sa.Row], dict]) -> None:
    """Rewrite every row of `table` in batches of `BATCH`, by id."""
    bind = op.get_bind()
    last = ""
    while True:
        rows = bind.execute(
            sa.select(table.c.id, *source).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            bind.execute(table.update().where(table.c.id == row.id).values(**change(row)))
        last = rows[-1].id


def upgrade() -> None:
    for name in ADDRESSED:
        with op.batch_alter_table(name) as batch_op:
            batch_op.add_column(sa.Column("address_enc", sa.LargeBinary(), nullable=True))
            batch_op.add_column(sa.Column("address_bidx", sa.String(length=64), nullable=True))

    cipher = _LazyCipher("Migration 0009 encrypts the chat addresses already stored")
    for name in ADDRESSED:
        table = _table(name)

        def seal(row: sa.Row, name: str = name) -> dict:
            return {
                "address_enc": cipher().encrypt(name, "address", row.id, row.address),
                "address_bidx": address_index(cipher().ring, row.channel, row.address),
            }

        _convert(table, [table.c.channel, table.c.address], seal)
    challenges = sa.table("otp_challenges", sa.column("id", sa.String), sa.column("chat_key", sa.String))
    _convert(
        challenges,
        [challenges.c.chat_key],
        lambda row: {"chat_key": blind_index(cipher().ring, "otp_chat", row.chat_key)},
    )

    with op.batch_alter_table("channel_identities") as batch_op:
        batch_op.drop_constraint(OLD_UNIQUE, type_="unique")
        batch_op.drop_column("address")
        batch_op.alter_column("address_enc", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column("address_bidx", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(NEW_UNIQUE, ["channel", "address_bidx"])
    with op.batch_alter_table("outbound_messages") as batch_op:
        batch_op.drop_index("ix_outbound_messages_address")
        batch_op.drop_column("address")
        batch_op.alter_column("address_enc", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column("address_bidx", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index("ix_outbound_messages_address_bidx", ["address_bidx"], unique=False)


def downgrade() -> None:
    """Back to clear addresses (needs the keys when there are rows). OTP challenges keep their
    chat index: they live five minutes, and an unmatched one is simply a code to ask again for."""
    for name in ADDRESSED:
        with op.batch_alter_table(name) as batch_op:
            batch_op.add_column(sa.Column("address", sa.String(length=128), nullable=True))

    cipher = _LazyCipher("Downgrading migration 0009 decrypts the chat addresses")
    for name in ADDRESSED:
        table = _table(name)

        def unseal(row: sa.Row, name: str = name) -> dict:
            return {"address": cipher().decrypt(name, "address", row.id, row.address_enc)}

        _convert(table, [table.c.address_enc], unseal)

    with op.batch_alter_table("outbound_messages") as batch_op:
        batch_op.drop_index("ix_outbound_messages_address_bidx")
        batch_op.drop_column("address_bidx")
        batch_op.drop_column("address_enc")
        batch_op.alter_column("address", existing_type=sa.String(length=128), nullable=False)
        batch_op.create_index("ix_outbound_messages_address", ["address"], unique=False)
    with op.batch_alter_table("channel_identities") as batch_op:
        batch_op.drop_constraint(NEW_UNIQUE, type_="unique")
        batch_op.drop_column("address_bidx")
        batch_op.drop_column("address_enc")
        batch_op.alter_column("address", existing_type=sa.String(length=128), nullable=False)
        batch_op.create_unique_constraint(OLD_UNIQUE, ["channel", "address"])
