"""audit chain keyed: each entry names its key, existing entries re-sealed

Up to here each audit entry's link was a plain SHA-256, which anyone who can write the database can
recompute after changing a row. From here each link is an HMAC under an audit MAC key derived
from the key ring key the entry names (`key_id`, added here). Entries already in the table are
re-sealed in this same transaction: their plain chain is checked first (re-sealing a broken
chain would hide the break, so the migration refuses), then every link is recomputed with the
active key. The append-only trigger is lifted for the re-seal only and is back before commit.
Re-sealing needs the key ring (TELECARE_KEY_FILE or TELECARE_KEYS_JSON); an empty table does not.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import context, op

import backend.models.base
from backend import audit

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BATCH = 1000
_LEGACY_FIELDS = (
    "seq", "event_id", "actor_id", "actor_role", "channel", "action", "resource_type",
    "resource_id", "patient_id", "outcome", "purpose", "prev_hash",
)  # fmt: skip
# The table as this migration knows it (not the model, which may change after it).
_ENTRIES = sa.table(
    "audit_entries",
    *(sa.column(name, sa.String()) for name in _LEGACY_FIELDS if name != "seq"),
    sa.column("seq", sa.Integer()),
    sa.column("at", backend.models.base.UTCDateTime()),
    sa.column("hash", sa.String()),
    sa.column("key_id", sa.String()),
)
_SQLITE_NO_UPDATE = (
    "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
)  # as created by 0002


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("key_id", sa.String(length=255), nullable=True))
    connection = op.get_bind()
    if not connection.scalar(sa.select(sa.func.count()).select_from(_ENTRIES)):
        return
    ring = _key_ring()
    sqlite = connection.dialect.name == "sqlite"
    op.execute(
        "DROP TRIGGER audit_entries_no_update"
        if sqlite
        else "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change"
    )
    _reseal(connection, ring)
    op.execute(
        _SQLITE_NO_UPDATE if sqlite else "ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change"
    )


def downgrade() -> None:
    # The previous code cannot check keyed links: going back would leave a chain it calls broken.
    if op.get_bind().scalar(sa.select(sa.func.count()).select_from(_ENTRIES)):
        raise audit.AuditSealError(
            "the audit chain is keyed since 0011 and cannot be downgraded with entries in it"
        )
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.drop_column("key_id")
    if op.get_bind().dialect.name == "sqlite":  # the batch copy of the table dropped its triggers
        op.execute(_SQLITE_NO_UPDATE)
        op.execute(
            "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
        )


def _key_ring():
    """The key ring the caller gave Alembic, else the settings' (`backend.migrate`)."""
    from backend.crypto import KeyMaterialError
    from backend.migrate import migration_key_ring

    try:
        return migration_key_ring(context.config)
    except KeyMaterialError as exc:
        raise audit.AuditSealError(
            f"the audit entries written so far must be re-sealed with the key ring, which is not available "
            f"({exc}); nothing was changed. Make the keys available as for `telecare serve`, then run "
            "`telecare migrate` again"
        ) from exc


def _legacy_link(row) -> str:
    """The plain SHA-256 link entries had before this migration."""
    fields = {name: getattr(row, name) for name in _LEGACY_FIELDS}
    fields["at"] = row.at.isoformat()
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _reseal(connection, ring) -> None:
    mac_key = ring.audit_mac_key(ring.active)
    old_prev = new_prev = audit.GENESIS
    expected_seq = 1
    while True:
        rows = connection.execute(
            sa.select(_ENTRIES).where(_ENTRIES.c.seq >= expected_seq).order_by(_ENTRIES.c.seq).limit(_BATCH)
        ).all()
        if not rows:
            return
        sealed = []
        for row in rows:
            fault = (
                "an entry is missing"
                if row.seq != expected_seq
                else "does not link to the previous entry"
                if row.prev_hash != old_prev
                else "its contents were changed"
                if _legacy_link(row) != row.hash
                else None
            )
            if fault:
                raise audit.AuditSealError(
                    f"the audit chain is already broken at entry {row.seq} ({fault}); re-sealing it with a key "
                    "would hide that, so nothing was changed. Keep a copy of the database as evidence; see "
                    "docs/operations.md"
                )
            entry = SimpleNamespace(**{**row._asdict(), "prev_hash": new_prev, "key_id": ring.active})
            new_link = audit.link(mac_key, entry)
            sealed.append({"b_seq": row.seq, "prev_hash": new_prev, "hash": new_link, "key_id": ring.active})
            old_prev, new_prev, expected_seq = row.hash, new_link, row.seq + 1
        connection.execute(
            _ENTRIES.update().where(_ENTRIES.c.seq == sa.bindparam("b_seq")),
            sealed,
        )
