"""Chat addresses at rest: a WhatsApp number, a Telegram chat id or a web session's hash.

Each is a way to reach (and name) one person, so it is kept like a typed phone number: sealed
with the field cipher, bound to its table, column ("address") and row, and found only through a
keyed blind index. The index is over `channel:address`, so the same digits on two channels give
two unrelated indexes. Finding a chat costs one HMAC; only code that must talk to the platform
(the dispatcher, a template fallback, an operator's listing) decrypts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from backend.crypto import FieldCipher, KeyRing, blind_index
from backend.models import Channel, ChannelIdentity, OutboundMessage, new_id

INDEX_PURPOSE = "chat_address"
COLUMN = "address"

# Rows that carry a chat address: ChannelIdentity or OutboundMessage (both have id, channel,
# address_enc and address_bidx).
AddressedRow = ChannelIdentity | OutboundMessage


def address_index(ring: KeyRing, channel: str, address: str) -> str:
    """The blind index of one chat's address (what the unique key and every lookup use)."""
    return blind_index(ring, INDEX_PURPOSE, f"{Channel(channel).value}:{address}")


def sealed_address(
    cipher: FieldCipher, table: str, row_id: str, channel: str, address: str
) -> dict[str, Any]:
    """The `address_enc` and `address_bidx` values of one row (also for bulk inserts)."""
    return {
        "address_enc": cipher.encrypt(table, COLUMN, row_id, address),
        "address_bidx": address_index(cipher.ring, channel, address),
    }


def set_address(cipher: FieldCipher, row: AddressedRow, address: str) -> None:
    """Seal `address` into the row (its id and channel must be set) and index it."""
    for attr, value in sealed_address(cipher, row.__tablename__, row.id, row.channel, address).items():
        setattr(row, attr, value)


def address_of(cipher: FieldCipher, row: AddressedRow) -> str:
    """The clear address, for the few places that must send to it or show it (masked)."""
    return cipher.decrypt(row.__tablename__, COLUMN, row.id, row.address_enc)


def new_identity(cipher: FieldCipher, channel: str, address: str, **fields: Any) -> ChannelIdentity:
    """A ChannelIdentity for `address` on `channel` (not added to any session)."""
    identity = ChannelIdentity(id=fields.pop("id", None) or new_id(), channel=Channel(channel), **fields)
    set_address(cipher, identity, address)
    return identity


def is_chat(cipher: FieldCipher, channel: str, address: str) -> tuple[ColumnElement[bool], ...]:
    """WHERE clauses selecting the identity of one chat."""
    return (
        ChannelIdentity.channel == Channel(channel),
        ChannelIdentity.address_bidx == address_index(cipher.ring, channel, address),
    )
