"""Files users send us (licences, lab reports, photos), kept encrypted and owned by their chat."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.accounts.service import identity_for
from backend.crypto import FieldCipher
from backend.models import StoredFile, new_id


async def store_upload(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    *,
    channel: str,
    chat_id: str,
    platform_file_id: str,
    filename: str,
    content_type: str,
    data: bytes,
) -> str:
    """Store the file's name and bytes encrypted; its id, which the engine then sees."""
    async with sessions() as session, session.begin():
        identity = await identity_for(session, cipher, channel, chat_id)
        stored = StoredFile(
            id=new_id(),
            identity_id=identity.id,
            user_id=identity.user_id,
            channel=channel,
            platform_file_id=platform_file_id[:256],
            content_type=content_type[:100],
            size=len(data),
        )
        stored.filename_enc = cipher.encrypt("stored_files", "filename", stored.id, filename)
        stored.content_enc = cipher.encrypt_bytes("stored_files", "content", stored.id, data)
        session.add(stored)
    return stored.id
