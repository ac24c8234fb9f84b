"""One-time passwords: issue and verify rules, on SQLite and PostgreSQL. Time is always passed in."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from backend.crypto import FieldCipher, blind_index, otp_digest
from backend.models import AuditEntry, OtpChallenge
from backend.otp import service as otp
from backend.otp.service import VerifyOutcome

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
EMAIL = "asha@example.com"
PHONE = "+919876543210"
CHAT = "web:chat-a"


@pytest.fixture
def fixed_codes(monkeypatch):
    """Deterministic codes: 000042, 000043, … (also proves zero padding)."""
    counter = itertools.count(42)
    monkeypatch.setattr(otp.secrets, "randbelow", lambda n: next(counter))


async def issue(sessions, cipher, *, at=T0, purpose="signup", kind="email", destination=EMAIL, chat_key=CHAT):
    async with sessions() as session, session.begin():
        return await otp.issue(
            session, cipher, purpose=purpose, kind=kind, destination=destination, chat_key=chat_key, now=at
        )


async def verify(
    sessions, cipher, code, *, at=T0, purpose="signup", kind="email", destination=EMAIL, chat_key=CHAT
):
    async with sessions() as session, session.begin():
        return await otp.verify(
            session,
            cipher,
            purpose=purpose,
            kind=kind,
            destination=destination,
            chat_key=chat_key,
            code=code,
            now=at,
        )


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def challenges(sessions) -> list[OtpChallenge]:
    async with sessions() as session:
        return list((await session.scalars(select(OtpChallenge).order_by(OtpChallenge.created_at))).all())


async def test_code_is_six_digits(sessions, cipher: FieldCipher) -> None:
    codes = []
    for i in range(5):  # five people, each in their own chat (one chat gets codes for 3 contacts a day)
        issued = await issue(sessions, cipher, destination=f"user{i}@example.com", chat_key=f"web:chat-{i}")
        assert issued.refused is None and issued.retry_after == 0
        assert re.fullmatch(r"\d{6}", issued.code)
        codes.append(issued.code)
    assert len(set(codes)) > 1  # random, not a constant


async def test_small_codes_are_zero_padded_and_verify(sessions, cipher: FieldCipher, fixed_codes) -> None:
    issued = await issue(sessions, cipher)
    assert issued.code == "000042"
    assert (await verify(sessions, cipher, "42")).outcome is VerifyOutcome.WRONG
    assert (await verify(sessions, cipher, "000042")).outcome is VerifyOutcome.OK


async def test_code_is_stored_only_as_its_hmac(sessions, cipher: FieldCipher) -> None:
    issued = await issue(sessions, cipher, kind="phone", destination=PHONE)
    async with sessions() as session:
        rows = (await session.execute(text("SELECT * FROM otp_challenges"))).mappings().all()
    assert len(rows) == 1
    row = rows[0]
    stored = " ".join(str(value) for value in row.values())
    assert issued.code not in stored
    assert PHONE not in stored and "9876543210" not in stored
    assert row["code_digest"] == otp_digest(cipher.ring, row["id"], issued.code)
    assert row["destination_bidx"] == blind_index(cipher.ring, "phone", PHONE)
    assert row["attempts"] == 0 and row["closed_at"] is None


async def test_verifies_once_only(sessions, cipher: FieldCipher) -> None:
    issued = await issue(sessions, cipher)
    assert (await verify(sessions, cipher, issued.code, at=T0 + timedelta(seconds=10))).outcome is (
        VerifyOutcome.OK
    )
    again = await verify(sessions, cipher, issued.code, at=T0 + timedelta(seconds=20))
    assert again.outcome is VerifyOutcome.NONE
    (challenge,) = await challenges(sessions)
    assert challenge.closed_reason == "verified"


async def test_surrounding_whitespace_is_ignored(sessions, cipher: FieldCipher) -> None:
    issued = await issue(sessions, cipher)
    assert (await verify(sessions, cipher, f"  {issued.code}\n")).outcome is VerifyOutcome.OK


async def test_valid_until_just_before_five_minutes(sessions, cipher: FieldCipher) -> None:
    issued = await issue(sessions, cipher)
    at = T0 + timedelta(minutes=5) - timedelta(microseconds=1)
    assert (await verify(sessions, cipher, issued.code, at=at)).outcome is VerifyOutcome.OK


@pytest.mark.parametrize("after", [timedelta(minutes=5), timedelta(minutes=5, seconds=1), timedelta(hours=3)])
async def test_expires_after_five_minutes(sessions, cipher: FieldCipher, after: timedelta) -> None:
    issued = await issue(sessions, cipher)
    assert (await verify(sessions, cipher, issued.code, at=T0 + after)).outcome is VerifyOutcome.EXPIRED
    # Expired is final: the right code does not work a moment later either.
    later = T0 + after + timedelta(seconds=1)
    assert (await verify(sessions, cipher, issued.code, at=later)).outcome is VerifyOutcome.NONE
    (challenge,) = await challenges(sessions)
    assert challenge.closed_reason == "expired"


async def test_code_for_one_purpose_does_not_verify_another(sessions, cipher: FieldCipher) -> None:
    issued = await issue(sessions, cipher, purpose="signup")
    assert (await verify(sessions, cipher, issued.code, purpose="login")).outcome is VerifyOutcome.NONE
    assert (await verify(sessions, cipher, issued.code, purpose="signup")).outcome is VerifyOutcome.OK


async def test_code_is_bound_to_the_chat(sessions, cipher: FieldCipher) -> None:
    issued = await issue(sessions, cipher, chat_key="web:chat-a")
    other = await verify(sessions, cipher, issued.code, chat_key="telegram:999")
    assert other.outcome is VerifyOutcome.NONE
    assert (await verify(sessions, cipher, issued.code, chat_key="web:chat-a")).outcome is VerifyOutcome.OK


async def test_code_is_bound_to_the_destination(sessions, cipher: FieldCipher) -> None:
    issued = await issue(sessions, cipher, destination=EMAIL)
    other = await verify(sessions, cipher, issued.code, destination="someone.else@example.com")
    assert other.outcome is VerifyOutcome.NONE
    as_phone = await verify(sessions, cipher, issued.code, kind="phone", destination=EMAIL)
    assert as_phone.outcome is VerifyOutcome.NONE  # the blind index is per kind
    assert (await verify(sessions, cipher, issued.code)).outcome is VerifyOutcome.OK


async def test_five_wrong_tries_lock_the_code(sessions, cipher: FieldCipher) -> None:
    issued = await issue(sessions, cipher)
    wrong = other_code(issued.code)
    for left in (4, 3, 2, 1):
        result = await verify(sessions, cipher, wrong)
        assert result.outcome is VerifyOutcome.WRONG
        assert result.attempts_left == left
    assert (await verify(sessions, cipher, wrong)).outcome is VerifyOutcome.LOCKED
    after = await verify(sessions, cipher, issued.code)
    assert after.outcome is not VerifyOutcome.OK
    assert after.outcome is VerifyOutcome.NONE
    (challenge,) = await challenges(sessions)
    assert challenge.closed_reason == "locked" and challenge.attempts == 5


async def test_four_wrong_tries_still_allow_the_right_code(sessions, cipher: FieldCipher) -> None:
    issued = await issue(sessions, cipher)
    for _ in range(4):
        await verify(sessions, cipher, other_code(issued.code))
    assert (await verify(sessions, cipher, issued.code)).outcome is VerifyOutcome.OK


async def test_verify_without_any_challenge_is_none(sessions, cipher: FieldCipher) -> None:
    assert (await verify(sessions, cipher, "123456")).outcome is VerifyOutcome.NONE


@pytest.mark.parametrize("elapsed", [0, 1, 30, 59])
async def test_cooldown_refuses_a_second_send_within_60_seconds(
    sessions, cipher: FieldCipher, elapsed: int
) -> None:
    first = await issue(sessions, cipher)
    second = await issue(sessions, cipher, at=T0 + timedelta(seconds=elapsed))
    assert second.code is None
    assert second.refused == "cooldown"
    assert 0 < second.retry_after <= 60
    assert second.retry_after >= 60 - elapsed  # waiting less would be refused again
    # The refusal did not kill the first code.
    assert (await verify(sessions, cipher, first.code, at=T0 + timedelta(seconds=elapsed))).outcome is (
        VerifyOutcome.OK
    )
    # Waiting retry_after seconds is enough.
    third = await issue(sessions, cipher, at=T0 + timedelta(seconds=elapsed + second.retry_after))
    assert third.code is not None and third.refused is None


async def test_cooldown_is_per_destination(sessions, cipher: FieldCipher) -> None:
    await issue(sessions, cipher, destination=EMAIL)
    other = await issue(sessions, cipher, destination="other@example.com", at=T0 + timedelta(seconds=1))
    assert other.code is not None
    # …and it applies to the destination whatever chat or purpose asks.
    same = await issue(sessions, cipher, chat_key="telegram:1", purpose="login", at=T0 + timedelta(seconds=2))
    assert same.refused == "cooldown"


async def test_three_sends_per_15_minutes(sessions, cipher: FieldCipher) -> None:
    for minute in (0, 2, 4):
        assert (await issue(sessions, cipher, at=T0 + timedelta(minutes=minute))).code is not None
    fourth = await issue(sessions, cipher, at=T0 + timedelta(minutes=6))
    assert fourth.code is None
    assert fourth.refused == "too_many"
    assert 0 < fourth.retry_after <= 9 * 60 + 1
    # Still refused a moment before the first send leaves the window…
    almost = await issue(sessions, cipher, at=T0 + timedelta(minutes=15) - timedelta(seconds=1))
    assert almost.refused == "too_many"
    # …allowed once it has (15 minutes after the first send), and by the advertised time.
    assert T0 + timedelta(minutes=6, seconds=fourth.retry_after) >= T0 + timedelta(minutes=15)
    allowed = await issue(sessions, cipher, at=T0 + timedelta(minutes=15))
    assert allowed.code is not None
    assert len(await challenges(sessions)) == 4  # refusals create no challenge


async def test_resend_kills_the_earlier_code(sessions, cipher: FieldCipher, fixed_codes) -> None:
    first = await issue(sessions, cipher)
    second = await issue(sessions, cipher, at=T0 + timedelta(seconds=61))
    assert first.code != second.code
    old = await verify(sessions, cipher, first.code, at=T0 + timedelta(seconds=70))
    assert old.outcome is not VerifyOutcome.OK
    assert (await verify(sessions, cipher, second.code, at=T0 + timedelta(seconds=80))).outcome is (
        VerifyOutcome.OK
    )
    rows = await challenges(sessions)
    assert [c.closed_reason for c in rows] == ["replaced", "verified"]


async def test_resend_from_another_chat_does_not_kill_this_chats_code(
    sessions, cipher: FieldCipher, fixed_codes
) -> None:
    """Someone else typing my address in their chat must not cancel my code (the send limits stay per
    destination, so they cannot flood me either)."""
    mine = await issue(sessions, cipher, chat_key="web:chat-a")
    theirs = await issue(sessions, cipher, chat_key="web:chat-b", at=T0 + timedelta(seconds=61))
    assert theirs.code is not None and theirs.code != mine.code
    # Neither code works in the other chat…
    crossed = await verify(sessions, cipher, mine.code, chat_key="web:chat-b", at=T0 + timedelta(seconds=62))
    assert crossed.outcome is not VerifyOutcome.OK
    # …and mine still works in mine.
    result = await verify(sessions, cipher, mine.code, chat_key="web:chat-a", at=T0 + timedelta(seconds=63))
    assert result.outcome is VerifyOutcome.OK


async def test_every_call_writes_one_audit_entry(sessions, cipher: FieldCipher) -> None:
    async def audit_rows() -> list[AuditEntry]:
        async with sessions() as session:
            return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())

    issued = await issue(sessions, cipher)
    await issue(sessions, cipher, at=T0 + timedelta(seconds=5))  # refused: cooldown
    await verify(sessions, cipher, other_code(issued.code))
    await verify(sessions, cipher, issued.code)
    await verify(sessions, cipher, issued.code)  # nothing live any more

    rows = await audit_rows()
    assert [(r.action, r.outcome) for r in rows] == [
        ("otp_send", "success"),
        ("otp_send", "refused_cooldown"),
        ("otp_verify", "wrong"),
        ("otp_verify", "ok"),
        ("otp_verify", "none"),
    ]
    (challenge,) = await challenges(sessions)
    assert rows[0].resource_id == challenge.id
    assert rows[2].resource_id == challenge.id and rows[4].resource_id is None
    for row in rows:
        flat = " ".join(str(getattr(row, c.key)) for c in AuditEntry.__table__.columns)
        assert issued.code not in flat
        assert EMAIL not in flat
