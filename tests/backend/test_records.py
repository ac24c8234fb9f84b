"""The patient profile: authorised, audited, encrypted and bound to its row. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text, update

from backend import audit
from backend.access import AccessDenied, Actor
from backend.crypto import DecryptionError, FieldCipher
from backend.db import transaction
from backend.models import PROFILE_LISTS, AuditEntry, PatientProfile, Role, User, new_id
from backend.records import service as records
from backend.records.service import ProfileError

NAME = "Asha Verma"
BIRTH = date(1988, 6, 14)
HEALTH_STRINGS = [NAME, "Asha", "Verma", "1988-06-14", "Penicillin", "penicillin", "Metformin", "Asthma"]


async def make_patient(sessions, cipher: FieldCipher, name: str = NAME, birth: date = BIRTH) -> str:
    user_id = new_id()
    async with sessions() as session, session.begin():
        session.add(User(id=user_id, role=Role.PATIENT))
        await session.flush()
        await records.create_profile(
            session,
            cipher,
            Actor(user_id, Role.PATIENT),
            user_id,
            full_name=name,
            birth_date=birth,
            sex="female",
            channel="web",
        )
    return user_id


def me(patient_id: str) -> Actor:
    return Actor(patient_id, Role.PATIENT)


async def audit_entries(sessions) -> list[AuditEntry]:
    async with sessions() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def read(sessions, cipher, actor, patient_id) -> records.ProfileView:
    async with sessions() as session, session.begin():
        return await records.read_profile(session, cipher, actor, patient_id, channel="web")


async def change(sessions, fn, *args, **kwargs):
    async with sessions() as session, session.begin():
        return await fn(session, *args, **kwargs)


async def test_create_and_read_profile(sessions, cipher: FieldCipher) -> None:
    patient = await make_patient(sessions, cipher)
    view = await read(sessions, cipher, me(patient), patient)
    assert view.full_name == NAME
    assert view.birth_date == BIRTH
    assert view.sex == "female"
    assert view.lists == {name: [] for name in PROFILE_LISTS}


async def test_add_remove_and_clear_items(sessions, cipher: FieldCipher) -> None:
    patient = await make_patient(sessions, cipher)
    actor = me(patient)
    add = records.add_item
    assert await change(sessions, add, cipher, actor, patient, "allergies", "Penicillin") == ["Penicillin"]
    assert await change(sessions, add, cipher, actor, patient, "allergies", "  Peanut \n  butter ") == [
        "Penicillin",
        "Peanut butter",
    ]
    await change(sessions, add, cipher, actor, patient, "medications", "Metformin 500 mg")
    await change(sessions, add, cipher, actor, patient, "conditions", "पेनिसिलिन से एलर्जी 😷")

    view = await read(sessions, cipher, actor, patient)
    assert view.lists["allergies"] == ["Penicillin", "Peanut butter"]
    assert view.lists["medications"] == ["Metformin 500 mg"]
    assert view.lists["conditions"] == ["पेनिसिलिन से एलर्जी 😷"]
    assert view.lists["history"] == []

    left = await change(sessions, records.remove_item, cipher, actor, patient, "allergies", "Penicillin")
    assert left == ["Peanut butter"]
    assert (await read(sessions, cipher, actor, patient)).lists["allergies"] == ["Peanut butter"]

    assert await change(sessions, records.clear_list, cipher, actor, patient, "allergies") == []
    view = await read(sessions, cipher, actor, patient)
    assert view.lists["allergies"] == []
    assert view.lists["medications"] == ["Metformin 500 mg"]  # other lists untouched


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "item_empty"),
        ("   \n\t ", "item_empty"),
        ("x" * 301, "item_too_long"),
        ("🤧🤧", "item_no_words"),
        ("!!! ...", "item_no_words"),
        ("penicillin", "item_duplicate"),
        ("PENICILLIN", "item_duplicate"),
        ("  Penicillin  ", "item_duplicate"),
    ],
    ids=["empty", "blank", "301-chars", "emoji-only", "punctuation-only", "lower", "upper", "padded"],
)
async def test_add_item_rejects(sessions, cipher: FieldCipher, text: str, reason: str) -> None:
    patient = await make_patient(sessions, cipher)
    await change(sessions, records.add_item, cipher, me(patient), patient, "allergies", "Penicillin")
    with pytest.raises(ProfileError) as caught:
        await change(sessions, records.add_item, cipher, me(patient), patient, "allergies", text)
    assert caught.value.reason == reason
    assert (await read(sessions, cipher, me(patient), patient)).lists["allergies"] == ["Penicillin"]


async def test_300_chars_is_accepted(sessions, cipher: FieldCipher) -> None:
    patient = await make_patient(sessions, cipher)
    item = "x" * 300
    assert await change(sessions, records.add_item, cipher, me(patient), patient, "history", item) == [item]


async def test_51st_item_is_refused(sessions, cipher: FieldCipher) -> None:
    patient = await make_patient(sessions, cipher)
    async with sessions() as session, session.begin():
        for i in range(50):
            await records.add_item(session, cipher, me(patient), patient, "medications", f"Medicine {i}")
    with pytest.raises(ProfileError) as caught:
        await change(sessions, records.add_item, cipher, me(patient), patient, "medications", "One more")
    assert caught.value.reason == "too_many_items"
    assert len((await read(sessions, cipher, me(patient), patient)).lists["medications"]) == 50


async def test_other_profile_errors(sessions, cipher: FieldCipher) -> None:
    patient = await make_patient(sessions, cipher)
    with pytest.raises(ProfileError) as caught:
        await change(sessions, records.remove_item, cipher, me(patient), patient, "allergies", "Nothing")
    assert caught.value.reason == "item_gone"
    with pytest.raises(ProfileError) as caught:
        await change(sessions, records.add_item, cipher, me(patient), patient, "secrets", "x")
    assert caught.value.reason == "profile_field_unknown"

    no_profile = new_id()
    async with sessions() as session, session.begin():
        session.add(User(id=no_profile, role=Role.PATIENT))
    with pytest.raises(ProfileError) as caught:
        await read(sessions, cipher, me(no_profile), no_profile)
    assert caught.value.reason == "profile_missing"


def _intruders(other_patient: str, patient: str) -> list[Actor]:
    return [
        Actor(other_patient, Role.PATIENT),
        Actor(new_id(), Role.DOCTOR),
        Actor(new_id(), Role.ADMIN),
        Actor(new_id(), Role.PHARMACY),
        Actor(new_id(), Role.LAB),
        Actor(patient, Role.DOCTOR),  # the right id with the wrong role
    ]


async def test_others_cannot_read_and_the_denial_is_audited(sessions, cipher: FieldCipher) -> None:
    patient = await make_patient(sessions, cipher)
    other = await make_patient(sessions, cipher, name="Ravi Kumar")
    for intruder in _intruders(other, patient):
        async with sessions() as session, session.begin():
            before = await session.scalar(select(func.count()).select_from(AuditEntry))
            with pytest.raises(AccessDenied):
                await records.read_profile(session, cipher, intruder, patient, channel="web")
            rows = (await session.scalars(select(AuditEntry).where(AuditEntry.seq > before))).all()
        assert len(rows) == 1, intruder
        (entry,) = rows
        assert entry.outcome == "denied"
        assert entry.action == "read"
        assert entry.actor_id == intruder.user_id
        assert entry.actor_role == intruder.role.value
        assert entry.patient_id == patient
        assert entry.resource_type == "patient_profile"


async def test_others_cannot_change_a_profile(sessions, cipher: FieldCipher) -> None:
    patient = await make_patient(sessions, cipher)
    await change(sessions, records.add_item, cipher, me(patient), patient, "allergies", "Penicillin")
    other = await make_patient(sessions, cipher, name="Ravi Kumar")
    for intruder in _intruders(other, patient):
        for fn, args in (
            (records.add_item, ("allergies", "Latex")),
            (records.remove_item, ("allergies", "Penicillin")),
            (records.clear_list, ("allergies",)),
        ):
            async with sessions() as session, session.begin():
                with pytest.raises(AccessDenied):
                    await fn(session, cipher, intruder, patient, *args)
                last = await session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
                assert (last.outcome, last.action, last.actor_id) == ("denied", "update", intruder.user_id)
    assert (await read(sessions, cipher, me(patient), patient)).lists["allergies"] == ["Penicillin"]


async def test_denied_read_is_kept_when_the_caller_catches_and_commits(sessions, cipher: FieldCipher) -> None:
    """The contract the conversation engine follows: catch AccessDenied inside the unit of work."""
    patient = await make_patient(sessions, cipher)
    intruder = Actor(new_id(), Role.DOCTOR)
    async with transaction(sessions) as session:
        with pytest.raises(AccessDenied):
            await records.read_profile(session, cipher, intruder, patient, channel="web")
    denied = [e for e in await audit_entries(sessions) if e.outcome == "denied"]
    assert [(e.actor_id, e.patient_id) for e in denied] == [(intruder.user_id, patient)]


async def test_each_successful_operation_writes_exactly_one_audit_entry(
    sessions, cipher: FieldCipher
) -> None:
    patient = await make_patient(sessions, cipher)
    actor = me(patient)
    entries = await audit_entries(sessions)
    assert [(e.action, e.outcome, e.purpose, e.patient_id) for e in entries] == [
        ("create", "success", "signup", patient)
    ]

    steps = [
        (lambda: read(sessions, cipher, actor, patient), "read", "view_profile"),
        (
            lambda: change(sessions, records.add_item, cipher, actor, patient, "allergies", "Penicillin"),
            "update",
            "edit_allergies",
        ),
        (
            lambda: change(sessions, records.add_item, cipher, actor, patient, "medications", "Metformin"),
            "update",
            "edit_medications",
        ),
        (
            lambda: change(sessions, records.remove_item, cipher, actor, patient, "allergies", "Penicillin"),
            "update",
            "edit_allergies",
        ),
        (
            lambda: change(sessions, records.clear_list, cipher, actor, patient, "medications"),
            "update",
            "edit_medications",
        ),
        (lambda: read(sessions, cipher, actor, patient), "read", "view_profile"),
    ]
    for step, action, purpose in steps:
        before = len(await audit_entries(sessions))
        await step()
        after = await audit_entries(sessions)
        assert len(after) == before + 1
        last = after[-1]
        assert (last.action, last.outcome, last.purpose) == (action, "success", purpose)
        assert last.patient_id == patient and last.resource_id == patient
        assert last.actor_id == patient and last.actor_role == "patient"
        assert last.channel in ("web", None)

    async with sessions() as session:
        assert (await audit.verify_chain(session)).ok


async def audit_entries_raw(session) -> list[dict]:
    return [dict(row) for row in (await session.execute(text("SELECT * FROM audit_entries"))).mappings()]


async def test_no_health_data_in_any_audit_column(sessions, cipher: FieldCipher) -> None:
    patient = await make_patient(sessions, cipher)
    actor = me(patient)
    await change(sessions, records.add_item, cipher, actor, patient, "allergies", "Penicillin")
    await change(sessions, records.add_item, cipher, actor, patient, "medications", "Metformin")
    await change(sessions, records.add_item, cipher, actor, patient, "conditions", "Asthma")
    await read(sessions, cipher, actor, patient)
    async with sessions() as session:
        rows = await audit_entries_raw(session)
    assert len(rows) == 5
    for row in rows:
        for column, value in row.items():
            for secret in HEALTH_STRINGS:
                assert secret not in str(value), (column, value)


async def test_profile_row_holds_no_plaintext(sessions, cipher: FieldCipher) -> None:
    patient = await make_patient(sessions, cipher)
    await change(sessions, records.add_item, cipher, me(patient), patient, "allergies", "Penicillin")
    await change(sessions, records.add_item, cipher, me(patient), patient, "medications", "Metformin")
    async with sessions() as session:
        row = (
            (
                await session.execute(
                    text("SELECT * FROM patient_profiles WHERE user_id = :id"), {"id": patient}
                )
            )
            .mappings()
            .one()
        )
    raw = b"|".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row.values())
    assert isinstance(row["allergies_enc"], bytes | memoryview)
    # (Only strings long enough that random ciphertext cannot contain them by chance.)
    for secret in [*HEALTH_STRINGS, "female"]:
        assert secret.encode() not in raw, secret


async def test_envelope_copied_to_another_patient_fails_to_decrypt(sessions, cipher: FieldCipher) -> None:
    asha = await make_patient(sessions, cipher)
    ravi = await make_patient(sessions, cipher, name="Ravi Kumar")
    await change(sessions, records.add_item, cipher, me(asha), asha, "allergies", "Penicillin")
    async with sessions() as session, session.begin():
        stolen = await session.scalar(
            select(PatientProfile.allergies_enc).where(PatientProfile.user_id == asha)
        )
        await session.execute(
            update(PatientProfile).where(PatientProfile.user_id == ravi).values(allergies_enc=stolen)
        )
    with pytest.raises(DecryptionError):
        await read(sessions, cipher, me(ravi), ravi)
    # The original row is still fine.
    assert (await read(sessions, cipher, me(asha), asha)).lists["allergies"] == ["Penicillin"]


async def test_envelope_copied_to_another_column_fails_to_decrypt(sessions, cipher: FieldCipher) -> None:
    asha = await make_patient(sessions, cipher)
    async with sessions() as session, session.begin():
        profile = await session.get(PatientProfile, asha)
        profile.history_enc = profile.allergies_enc  # both hold "[]", but bound to different columns
    with pytest.raises(DecryptionError):
        await read(sessions, cipher, me(asha), asha)
