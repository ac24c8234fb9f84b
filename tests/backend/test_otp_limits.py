"""Limits against SMS pumping and OTP guessing, on SQLite and PostgreSQL. Time is always passed in.

- one chat, and one client address, get codes for at most 3 distinct contacts in 24 hours;
- SMS only to allowed country calling codes (default +91);
- a global hourly SMS budget, then no more SMS that hour and one alert per admin;
- 20 wrong codes for one contact in 24 hours lock it for 24 hours, the same for everyone, and its
  owner is told once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from backend.accounts import service as accounts
from backend.models import AuditEntry, OtpChallenge, OtpContactLock, OutboxMessage, Role, User, new_id
from backend.otp import limits as send_limits
from backend.otp import service as otp
from backend.otp.limits import SendLimits
from backend.otp.service import Refusal, VerifyOutcome
from backend.outbox.service import open_params
from backend.settings import Settings

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
DEFAULTS = SendLimits()  # 3 contacts a day, SMS to +91 only, 500 SMS an hour


def indian(i: int) -> str:
    return f"+9198765{i:05d}"


async def issue(
    sessions,
    cipher,
    destination: str,
    *,
    chat: str = "web:chat-a",
    client: str | None = None,
    at: datetime = T0,
    limits: SendLimits = DEFAULTS,
    purpose: str = "account",
) -> otp.Issued:
    kind = "email" if "@" in destination else "phone"
    async with sessions() as session, session.begin():
        return await otp.issue(
            session,
            cipher,
            purpose=purpose,
            kind=kind,
            destination=destination,
            chat_key=chat,
            now=at,
            limits=limits,
            client=client,
        )


async def verify(
    sessions, cipher, destination: str, code: str, *, chat: str = "web:chat-a", at: datetime = T0
) -> otp.Verified:
    kind = "email" if "@" in destination else "phone"
    async with sessions() as session, session.begin():
        return await otp.verify(
            session,
            cipher,
            purpose="account",
            kind=kind,
            destination=destination,
            chat_key=chat,
            code=code,
            now=at,
        )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def rows(sessions, model, *where) -> list:
    async with sessions() as session:
        return list((await session.scalars(select(model).where(*where))).all())


# --- distinct destinations per chat and per client address ------------------------------------


def test_the_defaults_are_the_settings_defaults() -> None:
    assert SendLimits.from_settings(Settings(_env_file=None)) == DEFAULTS
    assert DEFAULTS.destinations_per_day == 3 and DEFAULTS.sms_country_codes == ("+91",)
    assert DEFAULTS.sms_hourly_budget == 500


async def test_one_chat_gets_codes_for_three_numbers_of_twenty(sessions, cipher) -> None:
    results = [await issue(sessions, cipher, indian(i), at=T0 + timedelta(seconds=i)) for i in range(20)]
    assert [r.code is not None for r in results] == [True] * 3 + [False] * 17
    assert {r.refused for r in results[3:]} == {Refusal.DESTINATIONS}
    # The first contact leaves the 24-hour window a day after its code: that is the wait.
    assert results[3].retry_after == 24 * 3600 - 3
    assert len(await rows(sessions, OtpChallenge)) == 3, "refusals create no challenge"
    # The three contacts it already used still get new codes (e.g. a resend)…
    again = await issue(sessions, cipher, indian(0), at=T0 + timedelta(minutes=2))
    assert again.code is not None
    # …and a day after, a new contact may have a code.
    later = await issue(sessions, cipher, indian(19), at=T0 + timedelta(hours=24, minutes=3))
    assert later.code is not None


async def test_one_client_address_gets_codes_for_three_numbers_however_many_chats(sessions, cipher) -> None:
    results = [
        await issue(sessions, cipher, indian(i), chat=f"web:chat-{i}", client="203.0.113.7")
        for i in range(20)
    ]
    assert sum(r.code is not None for r in results) == 3
    assert {r.refused for r in results[3:]} == {Refusal.DESTINATIONS}
    # Another client address is another client.
    other = await issue(sessions, cipher, indian(50), chat="web:chat-50", client="198.51.100.9")
    assert other.code is not None


async def test_chats_racing_from_one_address_cannot_take_more_than_three_places(sessions, cipher) -> None:
    """Ten chats at once (ten transactions, as from several server processes): still three codes."""
    results = await asyncio.gather(
        *(issue(sessions, cipher, indian(i), chat=f"web:race-{i}", client="203.0.113.7") for i in range(10))
    )
    assert sum(r.code is not None for r in results) == 3
    assert len(await rows(sessions, OtpChallenge)) == 3


async def test_an_ipv6_client_is_one_client_across_its_64(sessions, cipher) -> None:
    hosts = ["2001:db8:1:2::1", "2001:db8:1:2::ffff", "2001:db8:1:2:aaaa::5", "2001:db8:1:2::77"]
    results = [
        await issue(sessions, cipher, indian(i), chat=f"web:chat-{i}", client=host)
        for i, host in enumerate(hosts)
    ]
    assert [r.code is not None for r in results] == [True, True, True, False]
    assert send_limits.client_network("::ffff:203.0.113.7") == "203.0.113.7"


async def test_the_client_address_is_stored_only_as_a_keyed_hash(sessions, cipher) -> None:
    await issue(sessions, cipher, indian(1), client="203.0.113.7")
    async with sessions() as session:
        (row,) = (await session.execute(text("SELECT * FROM otp_challenges"))).mappings().all()
    assert "203.0.113.7" not in " ".join(str(value) for value in row.values())
    assert row["client_bidx"] == send_limits.client_index(cipher.ring, "203.0.113.7")


async def test_telegram_chats_are_limited_per_chat(sessions, cipher) -> None:
    chat = [await issue(sessions, cipher, indian(i), chat="telegram:42") for i in range(4)]
    assert [r.code is not None for r in chat] == [True, True, True, False]
    assert (await issue(sessions, cipher, indian(9), chat="telegram:43")).code is not None


# --- SMS countries ----------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["+2348031234567", "+12025550123", "+74951234567"])
async def test_no_sms_outside_the_allowed_countries(sessions, cipher, number: str) -> None:
    refused = await issue(sessions, cipher, number)
    assert refused.code is None and refused.refused is Refusal.SMS_COUNTRY
    assert await rows(sessions, OtpChallenge) == []
    audit = await rows(sessions, AuditEntry)
    assert [(a.action, a.outcome) for a in audit] == [("otp_send", "refused_sms_country")]
    # An email still works from the same chat, and so does an Indian number.
    assert (await issue(sessions, cipher, "asha@example.com")).code is not None
    assert (await issue(sessions, cipher, indian(1))).code is not None


async def test_the_allowed_countries_are_a_setting(sessions, cipher) -> None:
    limits = SendLimits(sms_country_codes=("+91", "+1"))
    assert (await issue(sessions, cipher, "+12025550123", limits=limits)).code is not None
    assert (await issue(sessions, cipher, "+2348031234567", limits=limits)).refused is Refusal.SMS_COUNTRY


# --- the hourly SMS budget --------------------------------------------------------------------


async def add_admins(sessions, count: int) -> list[str]:
    async with sessions() as session, session.begin():
        ids = [new_id() for _ in range(count)]
        session.add_all(User(id=i, role=Role.ADMIN, display_name=f"Admin {n}") for n, i in enumerate(ids))
    return ids


async def test_the_hourly_sms_budget_stops_sms_and_alerts_each_admin_once(sessions, cipher) -> None:
    admins = await add_admins(sessions, 2)
    limits = SendLimits(sms_hourly_budget=3)
    at = [T0 + timedelta(minutes=m) for m in (1, 5, 10, 20, 30, 59)]
    results = [
        await issue(sessions, cipher, indian(i), chat=f"web:chat-{i}", at=when, limits=limits)
        for i, when in enumerate(at)
    ]
    assert [r.code is not None for r in results] == [True, True, True, False, False, False]
    assert {r.refused for r in results[3:]} == {Refusal.SMS_BUDGET}
    assert results[3].retry_after == 40 * 60, "until the next hour"
    # Email is not SMS: it still goes.
    assert (await issue(sessions, cipher, "asha@example.com", chat="web:chat-9", at=at[-1])).code
    alerts = await rows(sessions, OutboxMessage, OutboxMessage.template == "sms_budget_spent")
    assert sorted(a.user_id for a in alerts) == sorted(admins), "one alert per admin that hour"
    assert {(a.kind, a.urgent) for a in alerts} == {("admin", True)}, "not held by quiet hours"
    assert open_params(cipher, alerts[0]) == {"budget": 3, "until_at": (T0 + timedelta(hours=1)).isoformat()}
    # The next hour has a new budget; spending it too is a new alert.
    next_hour = [T0 + timedelta(hours=1, minutes=m) for m in (0, 1, 2, 3)]
    later = [
        await issue(sessions, cipher, indian(20 + i), chat=f"web:chat-{20 + i}", at=when, limits=limits)
        for i, when in enumerate(next_hour)
    ]
    assert [r.code is not None for r in later] == [True, True, True, False]
    alerts = await rows(sessions, OutboxMessage, OutboxMessage.template == "sms_budget_spent")
    assert len(alerts) == 4


# --- wrong codes per contact ------------------------------------------------------------------


async def guess_wrong(sessions, cipher, contact: str, tries: int, *, at: datetime, chat: str) -> list:
    """Ask for a code in `chat` and try `tries` wrong codes for it."""
    issued = await issue(sessions, cipher, contact, chat=chat, at=at)
    assert issued.code is not None, issued
    return [
        await verify(sessions, cipher, contact, wrong(issued.code), chat=chat, at=at) for _ in range(tries)
    ]


async def owner_with(sessions, cipher, email: str) -> User:
    async with sessions() as session, session.begin():
        user = User(id=new_id(), role=Role.PATIENT, display_name="Asha", timezone="Asia/Kolkata")
        accounts.set_contact(cipher, user, "email", email)
        session.add(user)
    return user


async def twenty_wrong_codes(sessions, cipher, contact: str) -> tuple[list, datetime]:
    """Four codes over 15 minutes from four chats, five wrong tries each (the send limits allow
    three codes per 15 minutes to one contact). Returns the results and the 20th try's time."""
    results = []
    for n, minutes in enumerate((0, 1, 2, 15)):
        at = T0 + timedelta(minutes=minutes)
        results += await guess_wrong(sessions, cipher, contact, 5, at=at, chat=f"web:guesser-{n}")
    return results, T0 + timedelta(minutes=15)


async def test_twenty_wrong_codes_lock_the_contact_for_a_day(sessions, cipher) -> None:
    owner = await owner_with(sessions, cipher, "asha@example.com")
    results, locked_at = await twenty_wrong_codes(sessions, cipher, "asha@example.com")
    outcomes = [r.outcome for r in results]
    assert VerifyOutcome.CONTACT_LOCKED not in outcomes[:19], "19 wrong codes do not lock"
    assert outcomes[19] is VerifyOutcome.CONTACT_LOCKED
    until = locked_at + timedelta(hours=24)
    assert results[19].locked_until == until
    (lock,) = await rows(sessions, OtpContactLock)
    assert lock.failures == 20 and lock.locked_until == until

    # Locked for everyone: no code to it from any chat, and no code of it accepted.
    just_before = until - timedelta(seconds=1)
    refused = await issue(sessions, cipher, "asha@example.com", chat="telegram:7", at=just_before)
    assert refused.refused is Refusal.CONTACT_LOCKED and refused.until == until and refused.retry_after == 1
    tried = await verify(sessions, cipher, "asha@example.com", "123456", chat="telegram:7", at=just_before)
    assert tried.outcome is VerifyOutcome.CONTACT_LOCKED

    # The owner is told once, on their chats, with the time it ends; the lock is audited.
    (notice,) = await rows(sessions, OutboxMessage, OutboxMessage.template == "otp_contact_locked")
    assert notice.user_id == owner.id and notice.kind == "security"
    assert notice.urgent, "told at once, even inside the owner's quiet hours"
    assert open_params(cipher, notice) == {"contact": "a•••@example.com", "until_at": until.isoformat()}
    audit = await rows(sessions, AuditEntry, AuditEntry.action == "otp_contact_lock")
    assert [a.resource_id for a in audit] == [lock.id]

    # A day later it works again.
    issued = await issue(sessions, cipher, "asha@example.com", chat="telegram:7", at=until)
    assert issued.code is not None
    ok = await verify(sessions, cipher, "asha@example.com", issued.code, chat="telegram:7", at=until)
    assert ok.outcome is VerifyOutcome.OK
    assert len(await rows(sessions, OutboxMessage, OutboxMessage.template == "otp_contact_locked")) == 1


async def test_nineteen_wrong_codes_and_a_right_one_do_not_lock(sessions, cipher) -> None:
    for n, minutes in enumerate((0, 1, 2)):
        await guess_wrong(sessions, cipher, indian(1), 5, at=T0 + timedelta(minutes=minutes), chat=f"web:{n}")
    at = T0 + timedelta(minutes=15)
    issued = await issue(sessions, cipher, indian(1), chat="web:me", at=at)
    for _ in range(4):
        await verify(sessions, cipher, indian(1), wrong(issued.code), chat="web:me", at=at)
    assert (await verify(sessions, cipher, indian(1), issued.code, chat="web:me", at=at)).outcome is (
        VerifyOutcome.OK
    )
    assert await rows(sessions, OtpContactLock) == []


async def test_wrong_codes_older_than_a_day_do_not_count(sessions, cipher) -> None:
    for n, minutes in enumerate((0, 1, 2)):
        await guess_wrong(sessions, cipher, indian(1), 5, at=T0 + timedelta(minutes=minutes), chat=f"web:{n}")
    next_day = T0 + timedelta(hours=24, minutes=3)
    results = await guess_wrong(sessions, cipher, indian(1), 5, at=next_day, chat="web:3")
    assert VerifyOutcome.CONTACT_LOCKED not in [r.outcome for r in results]
    assert await rows(sessions, OtpContactLock) == []


async def test_the_lock_answers_the_same_with_or_without_an_account(sessions, cipher) -> None:
    await owner_with(sessions, cipher, "known@example.com")
    answers = {}
    for contact in ("known@example.com", "nobody@example.com"):
        results, locked_at = await twenty_wrong_codes(sessions, cipher, contact)
        later = locked_at + timedelta(hours=1)
        answers[contact] = (
            [r.outcome for r in results],
            results[-1].locked_until,
            await issue(sessions, cipher, contact, chat="web:other", at=later),
            await verify(sessions, cipher, contact, "123456", chat="web:other", at=later),
        )
    assert answers["known@example.com"] == answers["nobody@example.com"]
    # Only the contact with an account has someone to tell.
    notices = await rows(sessions, OutboxMessage, OutboxMessage.template == "otp_contact_locked")
    assert len(notices) == 1
