"""Demo data (idempotent, complete), key rotation over a realistic database, and no plaintext on disk."""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backend import demo
from backend.access import Actor
from backend.accounts import service as accounts
from backend.accounts.chats import new_identity
from backend.crypto import FieldCipher, KeyRing
from backend.db import create_engine, create_sessionmaker
from backend.keys import SEALED_COLUMNS, key_ids_in_use, reencrypt_all
from backend.models import (
    AvailabilityRule,
    Conversation,
    Doctor,
    Lab,
    LabTest,
    Pharmacy,
    Role,
    Slot,
    Specialty,
    StockItem,
    User,
    VerificationStatus,
    new_id,
    utcnow,
)
from backend.models.users import Channel
from backend.records import service as records

IST = ZoneInfo("Asia/Kolkata")


def next_tuesday_morning() -> datetime:
    """06:00 IST on the next Tuesday: day 13 of the slot window is then a Monday, when every demo
    doctor works, and all of day 0's hours are still ahead."""
    today = utcnow().date()
    days = (1 - today.weekday()) % 7 or 7
    return datetime.combine(today + timedelta(days=days), time(0, 30), tzinfo=UTC)


NOW = next_tuesday_morning()


async def load(sessions, cipher: FieldCipher, now: datetime = NOW) -> demo.Counts:
    async with sessions() as session, session.begin():
        return await demo.load(session, cipher, now=now)


async def test_demo_load_is_idempotent(sessions, cipher: FieldCipher) -> None:
    first = await load(sessions, cipher)
    assert first.users >= 12 + 2 + 2 + 2  # doctors, pharmacies, labs, admin and patient
    assert first.doctors == len(demo.DOCTORS)
    assert first.slots > 0 and first.pharmacies == 2 and first.labs == 2

    second = await load(sessions, cipher)
    assert second == demo.Counts()
    assert (second.users, second.doctors, second.slots, second.pharmacies, second.labs) == (0, 0, 0, 0, 0)

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == first.users
        assert await session.scalar(select(func.count()).select_from(Slot)) == first.slots


async def test_demo_load_a_day_later_adds_only_the_new_days_slots(sessions, cipher: FieldCipher) -> None:
    await load(sessions, cipher)
    later = await load(sessions, cipher, now=NOW + timedelta(days=1))
    assert (later.users, later.doctors, later.pharmacies, later.labs) == (0, 0, 0, 0)
    assert later.slots > 0


async def test_demo_content(sessions, cipher: FieldCipher) -> None:
    await load(sessions, cipher)
    async with sessions() as session:
        doctors = list((await session.scalars(select(Doctor))).all())
        verified = [d for d in doctors if d.status is VerificationStatus.VERIFIED]
        assert len(verified) >= 12
        specialties = {s.name for d in verified for s in d.specialties}
        assert len(specialties) >= 6
        assert await session.scalar(select(func.count()).select_from(Specialty)) == len(specialties)

        rules = defaultdict(set)
        for rule in await session.scalars(select(AvailabilityRule)):
            rules[rule.doctor_id].add(rule.weekday)
        slots = defaultdict(list)
        for slot in await session.scalars(select(Slot)):
            slots[slot.doctor_id].append(slot)

        today = NOW.astimezone(IST).date()
        window = [today + timedelta(days=i) for i in range(demo.SLOT_HORIZON_DAYS)]
        for doctor in verified:
            own = slots[doctor.id]
            assert own, doctor.full_name
            assert all(s.status == "free" for s in own)
            assert all(s.starts_at > NOW for s in own)
            assert all(s.ends_at - s.starts_at == timedelta(minutes=doctor.slot_minutes) for s in own)
            latest = max(s.starts_at for s in own)
            assert latest - NOW >= timedelta(days=13), (doctor.full_name, latest)
            assert latest < NOW + timedelta(days=demo.SLOT_HORIZON_DAYS)
            # Every working day of the two-week window has slots, and no other day does.
            expected_days = {day for day in window if day.weekday() in rules[doctor.id]}
            assert {s.starts_at.astimezone(IST).date() for s in own} == expected_days

        pharmacies = list((await session.scalars(select(Pharmacy))).all())
        assert len(pharmacies) == 2
        for pharmacy in pharmacies:
            stock = (
                await session.scalars(select(StockItem).where(StockItem.pharmacy_id == pharmacy.id))
            ).all()
            assert stock and all(item.quantity > 0 and item.price_minor > 0 for item in stock)

        labs = list((await session.scalars(select(Lab))).all())
        assert len(labs) == 2
        for lab in labs:
            tests = (await session.scalars(select(LabTest).where(LabTest.lab_id == lab.id))).all()
            assert tests and all(t.price_minor > 0 for t in tests)

        admins = (await session.scalars(select(User).where(User.role == Role.ADMIN))).all()
        assert len(admins) == 1

        patient = await accounts.find_user_by_contact(session, cipher, "email", demo.demo_email("patient"))
        assert patient is not None and patient.role is Role.PATIENT
        view = await records.read_profile(
            session, cipher, Actor(patient.id, Role.PATIENT), patient.id, channel="web"
        )
        assert view.full_name == "Asha Verma"


# --- key rotation ----------------------------------------------------------------------------------


async def _populate(sessions, cipher: FieldCipher) -> None:
    await load(sessions, cipher)
    async with sessions() as session, session.begin():
        user = await accounts.create_patient(
            session,
            cipher,
            accounts.NewPatient(
                full_name="Ravi Kumar",
                birth_date=date(1975, 3, 2),
                sex="male",
                contact_kind="phone",
                contact="+919876543210",
                locale="hi",
                timezone="Asia/Kolkata",
                consent_version="v1",
                consent_at=utcnow(),
                channel="telegram",
            ),
        )
        await records.add_item(
            session, cipher, Actor(user.id, Role.PATIENT), user.id, "allergies", "Penicillin"
        )
        identity = new_identity(cipher, Channel.TELEGRAM, "12345", user_id=user.id)
        session.add(identity)
        await session.flush()
        conversation_id = new_id()
        session.add(
            Conversation(
                id=conversation_id,
                identity_id=identity.id,
                flow="signup",
                step="ask_dob",
                data_enc=cipher.encrypt("conversations", "data", conversation_id, '{"name": "Ravi Kumar"}'),
            )
        )


async def _plaintexts(sessions, cipher: FieldCipher) -> dict[tuple[str, str, str], str]:
    """Every sealed value in the database, decrypted, keyed by (table, column, row id)."""
    found = {}
    async with sessions() as session:
        for sealed in SEALED_COLUMNS:
            for row in await session.scalars(select(sealed.model)):
                envelope = getattr(row, sealed.attr)
                if envelope:
                    row_id = getattr(row, sealed.key_attr)
                    found[(sealed.table, sealed.column, row_id)] = cipher.decrypt(
                        sealed.table, sealed.column, row_id, envelope
                    )
    return found


async def test_reencrypt_all_moves_every_envelope_to_the_new_key(sessions) -> None:
    ring = KeyRing.generate()
    cipher = FieldCipher(ring)
    await _populate(sessions, cipher)
    before = await _plaintexts(sessions, cipher)
    tables = {table for table, _, _ in before}
    assert {"users", "patient_profiles", "conversations"} <= tables
    assert any("Penicillin" in v for v in before.values())
    assert await key_ids_in_use(sessions) == {"k1"}

    new = ring.add_key()
    changed = await reencrypt_all(sessions, cipher, batch=7)  # small batches: many pages
    assert changed == len(before)
    assert await key_ids_in_use(sessions) == {new}

    ring.retire("k1")  # nothing needs the old key any more
    assert await _plaintexts(sessions, cipher) == before

    assert await reencrypt_all(sessions, cipher) == 0
    assert await key_ids_in_use(sessions) == {new}


async def test_reencrypt_all_resumes_after_a_partial_run(sessions) -> None:
    ring = KeyRing.generate()
    cipher = FieldCipher(ring)
    await _populate(sessions, cipher)
    before = await _plaintexts(sessions, cipher)
    ring.add_key()
    # Simulate an interrupted run: re-seal a few rows by hand first.
    async with sessions() as session, session.begin():
        query = select(User).where(User.email_enc.is_not(None)).order_by(User.id).limit(3)
        for user in (await session.scalars(query)).all():
            plain = cipher.decrypt("users", "email", user.id, user.email_enc)
            user.email_enc = cipher.encrypt("users", "email", user.id, plain)
    changed = await reencrypt_all(sessions, cipher)
    assert changed == len(before) - 3
    assert await key_ids_in_use(sessions) == {"k2"}
    assert await _plaintexts(sessions, cipher) == before


# --- nothing readable on disk --------------------------------------------------------------------


def read_if_exists(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


async def test_sqlite_file_holds_no_plaintext(tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "leak.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    cipher = FieldCipher(KeyRing.generate())
    sessions = create_sessionmaker(engine, cipher.ring)
    try:
        await _populate(sessions, cipher)
        # Sanity check: the values really are in the database, encrypted.
        values = set((await _plaintexts(sessions, cipher)).values())
        assert "+919876543210" in values and "Ravi Kumar" in values
        wal_before_dispose = read_if_exists(Path(f"{path}-wal"))
    finally:
        await engine.dispose()

    files = [read_if_exists(path), wal_before_dispose]
    files += [read_if_exists(Path(f"{path}{suffix}")) for suffix in ("-wal", "-journal", "-shm")]
    assert len(files[0]) > 0
    assert b"Ananya Rao" in b"".join(files)  # control: public data is stored in clear and is found

    secrets = [
        "Penicillin",
        "+919876543210",
        "9876543210",
        "Ravi Kumar",
        "1975-03-02",
        "Asha Verma",
        "1988-06-14",
        demo.demo_email("patient"),
        demo.demo_email("admin"),
        demo.DEMO_DOMAIN,
    ]
    for blob in files:
        for secret in secrets:
            assert secret.encode() not in blob, secret
            assert secret.encode("utf-16-le") not in blob, secret


@pytest.mark.parametrize("secret", ["Penicillin", "+919876543210"])
async def test_leak_check_would_see_a_plaintext_value(
    tmp_path: Path, sqlite_template: Path, secret: str
) -> None:
    """The raw-bytes check above can fail: a value stored in clear is found."""
    path = tmp_path / "control.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            session.add(User(id=new_id(), role=Role.PATIENT, display_name=secret))
    finally:
        await engine.dispose()
    blob = read_if_exists(path) + read_if_exists(Path(f"{path}-wal"))
    assert secret.encode() in blob
