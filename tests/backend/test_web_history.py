"""The web chat's history at rest: encrypted and bound to its row, pruned to the newest 50 and the
last 30 days, never showing an OTP code, and only to the account the chat belongs to. SQLite and
PostgreSQL. (Through the page itself: tests/bot/test_web.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from backend.access import Action, Actor, Resource, can
from backend.accounts import chats, web_history
from backend.accounts.web_history import MAX_MESSAGES, Shown, redact_codes
from backend.crypto import DecryptionError
from backend.models import AuditEntry, ChannelIdentity, Role, User, WebChatMessage, new_id

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)  # the clock, pinned
ADDRESS = "a" * 64  # a web chat's address is the SHA-256 of its cookie, in hex


async def open_chat(sessions, cipher, *, user_role: Role | None = None) -> tuple[str, str | None]:
    """A web chat at ADDRESS, linked to a new user of `user_role` (or anonymous)."""
    user_id = new_id() if user_role else None
    async with sessions() as session, session.begin():
        if user_id:
            session.add(User(id=user_id, role=user_role))
            await session.flush()
        identity = chats.new_identity(cipher, "web", ADDRESS, user_id=user_id)
        session.add(identity)
    return identity.id, user_id


async def record(sessions, cipher, shown: list[Shown], now: datetime = NOW) -> None:
    async with sessions() as session, session.begin():
        await web_history.record(session, cipher, ADDRESS, shown, now)


async def recent(sessions, cipher, now: datetime = NOW) -> list[Shown]:
    async with sessions() as session, session.begin():
        return await web_history.recent(session, cipher, ADDRESS, now)


async def set_user(sessions, identity_id: str, user_id: str | None) -> None:
    async with sessions() as session, session.begin():
        (await session.get(ChannelIdentity, identity_id)).user_id = user_id


async def test_messages_are_stored_encrypted_and_bound_to_their_row(sessions, cipher, database_url):
    await open_chat(sessions, cipher, user_role=Role.PATIENT)
    secret = "Penicillin makes my throat swell"
    await record(
        sessions,
        cipher,
        [Shown("user", secret), Shown("bot", "Added.", labels=("Add another", "Back"), urgent=True)],
    )
    async with sessions() as session:
        rows = (await session.scalars(select(WebChatMessage).order_by(WebChatMessage.at))).all()
        raw = (await session.execute(text("SELECT body_enc FROM web_chat_messages"))).scalars().all()
    assert len(rows) == 2
    assert all(b"Penicillin" not in bytes(body) and b"Add another" not in bytes(body) for body in raw)
    with pytest.raises(DecryptionError):  # a ciphertext copied to another row does not open
        cipher.decrypt("web_chat_messages", "body", rows[1].id, rows[0].body_enc)
    shown = await recent(sessions, cipher)
    assert shown == [
        Shown("user", secret),
        Shown("bot", "Added.", labels=("Add another", "Back"), urgent=True),
    ]


async def test_only_the_newest_fifty_and_the_last_thirty_days_are_kept(sessions, cipher):
    await open_chat(sessions, cipher, user_role=Role.PATIENT)
    await record(sessions, cipher, [Shown("user", "a month ago")], NOW - timedelta(days=31))
    await record(sessions, cipher, [Shown("user", "last week")], NOW - timedelta(days=7))
    assert [s.text for s in await recent(sessions, cipher, NOW)] == ["last week"], "31 days: pruned"
    await record(sessions, cipher, [Shown("bot", f"message {n}") for n in range(MAX_MESSAGES + 10)])
    shown = await recent(sessions, cipher)
    assert len(shown) == MAX_MESSAGES == 50
    assert shown[0].text == "message 10" and shown[-1].text == "message 59", "the newest, in order"
    async with sessions() as session:
        assert len((await session.scalars(select(WebChatMessage))).all()) == MAX_MESSAGES


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("483920", "••••••"),
        ("483 920", "••••••"),
        ("483-920", "••••••"),
        ("my code is 483920.", "my code is ••••••."),
        ("call 98765 43210", "call 98765 43210"),  # a phone number is not a code
        ("23-04-1990", "23-04-1990"),
        ("Penicillin", "Penicillin"),
    ],
)
def test_a_typed_otp_code_is_masked(typed, stored):
    assert redact_codes(typed) == stored


async def test_the_code_a_user_typed_is_never_stored(sessions, cipher):
    await open_chat(sessions, cipher)
    await record(sessions, cipher, [Shown("user", "483920"), Shown("bot", "Which language?")])
    assert [s.text for s in await recent(sessions, cipher)] == ["••••••", "Which language?"]


async def test_a_signed_out_chat_shows_nothing_and_a_new_sign_in_adopts_only_its_own(sessions, cipher):
    identity_id, asha = await open_chat(sessions, cipher, user_role=Role.PATIENT)
    await record(sessions, cipher, [Shown("user", "Asha's allergy: penicillin")])
    await set_user(sessions, identity_id, None)  # signed out (idle): the next person at this browser
    assert await recent(sessions, cipher) == []
    await record(sessions, cipher, [Shown("user", "Ravi, signing in")])
    ravi = new_id()
    async with sessions() as session, session.begin():
        session.add(User(id=ravi, role=Role.PATIENT))
    await set_user(sessions, identity_id, ravi)
    assert [s.text for s in await recent(sessions, cipher)] == ["Ravi, signing in"]
    await set_user(sessions, identity_id, asha)  # linked to another account: none of Ravi's
    assert await recent(sessions, cipher) == []


async def test_stop_forgets_the_history(sessions, cipher):
    identity_id, _ = await open_chat(sessions, cipher, user_role=Role.PATIENT)
    await record(sessions, cipher, [Shown("user", "chest pain")])
    async with sessions() as session, session.begin():
        (await session.get(ChannelIdentity, identity_id)).muted = True  # what "stop" does
    await record(sessions, cipher, [Shown("user", "stop"), Shown("bot", "Stopped.")])
    assert await recent(sessions, cipher) == []


async def test_reading_it_is_authorised_and_audited(sessions, cipher):
    identity_id, asha = await open_chat(sessions, cipher, user_role=Role.PATIENT)
    await record(sessions, cipher, [Shown("user", "chest pain")])
    await recent(sessions, cipher)
    async with sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.resource_type == "web_chat_history"))
    assert (entry.action, entry.actor_id, entry.patient_id, entry.resource_id, entry.outcome) == (
        "read",
        asha,
        asha,
        identity_id,
        "success",
    )
    resource = Resource("web_chat_history", patient_id=asha)
    assert can(Actor(asha, Role.PATIENT), Action.READ, resource)
    assert not can(Actor(new_id(), Role.DOCTOR), Action.READ, resource)
    assert not can(Actor(new_id(), Role.ADMIN), Action.READ, resource)
    assert not can(Actor(asha, Role.PATIENT), Action.UPDATE, resource)
