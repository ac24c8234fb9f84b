"""Key rotation: re-encrypt every envelope under the active key, in batches, idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.crypto import FieldCipher
from backend.models import (
    PROFILE_LISTS,
    AuditEntry,
    ChannelIdentity,
    Conversation,
    InboxMessage,
    OutboundMessage,
    OutboxMessage,
    PatientProfile,
    StoredFile,
    User,
)


@dataclass(frozen=True)
class SealedColumn:
    model: type
    key_attr: str  # the row id the envelope is bound to
    attr: str  # the model attribute holding the envelope
    table: str  # associated-data names used when it was sealed
    column: str


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn(User, "id", "phone_enc", "users", "phone"),
    SealedColumn(User, "id", "email_enc", "users", "email"),
    SealedColumn(ChannelIdentity, "id", "address_enc", "channel_identities", "address"),
    SealedColumn(OutboundMessage, "id", "address_enc", "outbound_messages", "address"),
    SealedColumn(Conversation, "id", "data_enc", "conversations", "data"),
    SealedColumn(InboxMessage, "id", "payload_enc", "inbox_messages", "payload"),
    SealedColumn(OutboundMessage, "id", "variables_enc", "outbound_messages", "variables"),
    SealedColumn(OutboxMessage, "id", "params_enc", "outbox", "params"),
    SealedColumn(StoredFile, "id", "filename_enc", "stored_files", "filename"),
    SealedColumn(StoredFile, "id", "content_enc", "stored_files", "content"),
    *(
        SealedColumn(PatientProfile, "user_id", f"{name}_enc", "patient_profiles", name)
        for name in ("full_name", "birth_date", "sex", *PROFILE_LISTS)
    ),
)


async def reencrypt_all(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, batch: int = 500
) -> int:
    """Re-seal every envelope not yet under the active key. Safe to interrupt and run again."""
    changed = 0
    for sealed in SEALED_COLUMNS:
        key_col = getattr(sealed.model, sealed.key_attr)
        last_key = ""
        while True:
            async with sessions() as session, session.begin():
                rows = (
                    await session.scalars(
                        select(sealed.model).where(key_col > last_key).order_by(key_col).limit(batch)
                    )
                ).all()
                if not rows:
                    break
                for row in rows:
                    envelope = getattr(row, sealed.attr)
                    if envelope and FieldCipher.key_id_of(envelope) != cipher.ring.active:
                        row_id = getattr(row, sealed.key_attr)
                        plain = cipher.decrypt_bytes(sealed.table, sealed.column, row_id, envelope)
                        setattr(
                            row, sealed.attr, cipher.encrypt_bytes(sealed.table, sealed.column, row_id, plain)
                        )
                        changed += 1
                last_key = getattr(rows[-1], sealed.key_attr)
    return changed


async def key_ids_in_use(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    used: set[str] = set()
    async with sessions() as session:
        for sealed in SEALED_COLUMNS:
            for envelope in await session.scalars(select(getattr(sealed.model, sealed.attr))):
                if envelope:
                    used.add(FieldCipher.key_id_of(envelope))
    return used


async def audit_key_ids(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    """The keys audit entries are sealed with. Entries are never re-sealed, so a retired key
    keeps its audit MAC key for as long as this names it."""
    async with sessions() as session:
        return {key_id for key_id in await session.scalars(select(AuditEntry.key_id).distinct()) if key_id}
