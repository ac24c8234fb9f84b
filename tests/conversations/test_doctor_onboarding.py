"""A doctor joins in chat: consent, contact + OTP, then the application (details, specialties
matched typo-tolerantly, fee, documents as files) → pending, admins notified; bad input at each
step gets a clear message; a pending doctor cannot reach doctor-only work."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from backend.models import (
    AuditEntry,
    Consent,
    Doctor,
    OutboxMessage,
    ProviderDocument,
    Role,
    Specialty,
    User,
    VerificationStatus,
)
from bot.uploads import store_upload
from conversations.flows.doctor_onboarding import clean_languages, match_specialties, parse_fee
from conversations.messages import Inbound, InboundKind
from tests.chat import ChatDriver

_files = itertools.count(1)
PDF = b"%PDF-1.4 licence\n%%EOF"


async def send_file(
    chat: ChatDriver, sessions, cipher, *, content_type="application/pdf", data=PDF, name="licence.pdf"
):
    """What a channel does with an attachment: store it encrypted, hand the engine its id."""
    file_ref = await store_upload(
        sessions,
        cipher,
        channel=chat.channel,
        chat_id=chat.chat_id,
        platform_file_id=f"test-{next(_files)}",
        filename=name,
        content_type=content_type,
        data=data,
    )
    inbound = Inbound(
        chat.channel, chat.chat_id, InboundKind.FILE, file_ref=file_ref, platform_id=f"f{next(_files)}"
    )
    return await chat._deliver(inbound)


async def make_admin(sessions, *, email_user: User | None = None, name="Admin Ravi") -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.id == email_user.id).values(role=Role.ADMIN, display_name=name)
        )


async def join_as(chat: ChatDriver, kind: str, *, contact: str) -> None:
    await chat.open()
    await chat.tap("doctor, pharmacy or lab")
    await chat.tap({"doctor": "Doctor", "pharmacy": "Pharmacy", "lab": "Lab"}[kind])
    await chat.tap("I agree")
    await chat.send(contact)
    await chat.send(chat.otp.last_code())
    await chat.tap("English")
    await chat.tap("Kolkata")


async def apply_as_doctor(
    chat: ChatDriver,
    sessions,
    cipher,
    *,
    contact="dr.meera@example.com",
    name="Meera Iyer",
    registration="TNMC-90311",
    submit=True,
) -> None:
    await join_as(chat, "doctor", contact=contact)
    await chat.send(name)
    await chat.send("MBBS, MD (Paediatrics)")
    await chat.send("Tamil Nadu Medical Council")
    await chat.send(registration)
    await chat.send("paediatrcs, dermatolgy")
    await chat.send("English, tamil and Hindi")
    await chat.send("₹500")
    await chat.tap("Skip")
    await send_file(chat, sessions, cipher)
    await send_file(
        chat, sessions, cipher, content_type="image/jpeg", data=b"\xff\xd8\xff photo", name="id.jpg"
    )
    if submit:
        await chat.tap("Submit")


@pytest.fixture
async def specialties(sessions):
    async with sessions() as session, session.begin():
        for name in ("General Physician", "Paediatrics", "Dermatology", "Cardiology"):
            session.add(Specialty(name=name))


async def _doctor(sessions) -> Doctor:
    async with sessions() as session:
        return await session.scalar(select(Doctor))


async def test_a_doctor_applies_and_is_pending_with_documents(
    chat: ChatDriver, sessions, cipher, specialties
):
    await apply_as_doctor(chat, sessions, cipher, submit=False)
    summary = chat.text()
    assert "Meera Iyer" in summary and "TNMC-90311" in summary
    assert "Dermatology, Paediatrics" in summary or "Paediatrics, Dermatology" in summary
    assert "₹500" in summary and "English, Tamil, Hindi" in summary
    await chat.tap("Submit")
    assert "application is with our admins" in chat.text()
    doctor = await _doctor(sessions)
    assert doctor.status is VerificationStatus.PENDING
    assert (doctor.fee_minor, doctor.currency) == (50000, "INR")
    assert sorted(s.name for s in doctor.specialties) == ["Dermatology", "Paediatrics"]
    assert doctor.languages == ["English", "Tamil", "Hindi"] and doctor.bio == ""
    async with sessions() as session:
        user = await session.get(User, doctor.user_id)
        docs = (await session.scalars(select(ProviderDocument))).all()
        audited = (await session.scalars(select(AuditEntry.action))).all()
    assert user.role is Role.DOCTOR and user.display_name == "Dr Meera Iyer"
    assert sorted(d.kind for d in docs) == ["id_proof", "licence"]
    assert all(d.provider_id == doctor.id and d.provider_kind == "doctor" for d in docs)
    assert "consent" in audited and "application_submit" in audited


async def test_every_admin_is_notified_once_per_application(
    chat: ChatDriver, engine, otp_sender, sessions, cipher, specialties
):
    admins = []
    for n in range(2):
        other = ChatDriver(engine, otp_sender, chat_id=f"admin-{n}")
        await other.sign_up(name=f"Admin {'AB'[n]}", contact=f"admin{n}@example.com")
        async with sessions() as session:
            admins.append((await session.scalars(select(User).order_by(User.created_at))).all()[-1])
        await make_admin(sessions, email_user=admins[-1])
    await apply_as_doctor(chat, sessions, cipher)
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.template == "application_new_doctor")
            )
        ).all()
    assert sorted(r.user_id for r in rows) == sorted(a.id for a in admins)
    assert all(r.kind == "staff" and r.action == "application_review" for r in rows)
    assert len({r.dedupe_key for r in rows}) == 2


async def test_text_where_a_document_is_expected_is_refused_clearly(
    chat: ChatDriver, sessions, cipher, specialties
):
    await apply_as_doctor(chat, sessions, cipher, submit=False)
    await chat.tap("Change an answer")
    await chat.tap("Licence")
    replies = await chat.send("my licence number is 12345")
    assert "Please send the document itself as a file" in replies[0].text
    replies = await send_file(
        chat, sessions, cipher, content_type="application/zip", data=b"PK..", name="x.zip"
    )
    assert "send a PDF, JPG or PNG" in replies[0].text
    replies = await send_file(chat, sessions, cipher, data=b"")
    assert "empty or larger than 10 MB" in replies[0].text
    # A file reference that is not this chat's own (forged, or another chat's) is not accepted.
    other = ChatDriver(chat.engine, chat.otp, chat_id="someone-else")
    file_ref = await store_upload(
        sessions,
        cipher,
        channel="web",
        chat_id="someone-else",
        platform_file_id="x",
        filename="a.pdf",
        content_type="application/pdf",
        data=PDF,
    )
    replies = await chat._deliver(
        Inbound("web", chat.chat_id, InboundKind.FILE, file_ref=file_ref, platform_id="forged")
    )
    assert "could not receive that file" in replies[0].text
    del other
    replies = await send_file(chat, sessions, cipher)
    assert "Please check your application" in chat.text()


@pytest.mark.parametrize(
    ("step_answers", "bad", "message"),
    [
        ((), "   ", "didn't get any text"),
        ((), "🩺🩺🩺", "using letters"),
        ((), "x" * 130, "using letters"),
        (("Meera Iyer",), "😀😀", "in words"),
        (("Meera Iyer", "MBBS"), "!!", "council's name"),
        (("Meera Iyer", "MBBS", "TN Medical Council"), "ABC", "registration number as on your certificate"),
        (("Meera Iyer", "MBBS", "TN Medical Council", "TN-1"), "astrology", "couldn't match: astrology"),
        (("Meera Iyer", "MBBS", "TN Medical Council", "TN-1", "cardio"), "हिंदी 🙂", "language names"),
        (
            ("Meera Iyer", "MBBS", "TN Medical Council", "TN-1", "cardio", "Hindi"),
            "five hundred",
            "amount in rupees",
        ),
        (
            ("Meera Iyer", "MBBS", "TN Medical Council", "TN-1", "cardio", "Hindi"),
            "5",
            "between ₹50 and ₹20,000",
        ),
        (
            ("Meera Iyer", "MBBS", "TN Medical Council", "TN-1", "cardio", "Hindi"),
            "500.555",
            "amount in rupees",
        ),
        (
            ("Meera Iyer", "MBBS", "TN Medical Council", "TN-1", "cardio", "Hindi", "500"),
            "y" * 1001,
            "too long",
        ),
    ],
)
async def test_bad_answers_get_a_clear_message(chat: ChatDriver, specialties, step_answers, bad, message):
    await join_as(chat, "doctor", contact="dr.x@example.com")
    for answer in step_answers:
        await chat.send(answer)
    question = chat.last[-1].text
    replies = await chat.send(bad)
    assert message in replies[0].text
    assert replies[-1].text == question  # and the same question again


async def test_a_duplicate_registration_is_refused(
    chat: ChatDriver, engine, otp_sender, sessions, cipher, specialties
):
    await apply_as_doctor(chat, sessions, cipher)
    second = ChatDriver(engine, otp_sender, chat_id="chat-b")
    await join_as(second, "doctor", contact="dr.copy@example.com")
    await second.send("Meera Copy")
    await second.send("MBBS")
    await second.send("tamil nadu medical council")
    replies = await second.send("tnmc-90311")
    assert "already registered with telecare" in replies[0].text
    async with sessions() as session:
        assert len((await session.scalars(select(Doctor))).all()) == 1


async def test_a_contact_already_in_use_is_refused_like_signup(
    chat: ChatDriver, engine, otp_sender, sessions
):
    patient = ChatDriver(engine, otp_sender, chat_id="patient")
    await patient.sign_up(contact="asha@example.com")
    chat.skew = timedelta(minutes=5)  # past the code cooldown for that address
    await chat.open()
    await chat.tap("doctor, pharmacy or lab")
    await chat.tap("Doctor")
    await chat.tap("I agree")
    await chat.send("asha@example.com")
    replies = await chat.send(chat.otp.last_code())
    assert "already belongs to a telecare account" in replies[0].text
    assert "What would you like to do?" in replies[-1].text  # signed in to that account's menu
    async with sessions() as session:
        users = (await session.scalars(select(User))).all()
    assert [u.role for u in users] == [Role.PATIENT]


async def test_a_pending_doctor_sees_the_status_and_cannot_do_doctor_work(
    chat: ChatDriver, sessions, cipher, specialties
):
    await apply_as_doctor(chat, sessions, cipher)
    replies = await chat.tap("registration details")
    assert "awaiting verification" in "\n".join(r.text for r in replies)
    # Sending the application again while it is pending is refused, and the admins' review is
    # not a doctor's (availability and prescribing check the status in their own areas).
    from backend.models import Conversation

    async with sessions() as session, session.begin():
        await session.execute(update(Conversation).values(flow="doctor_onboarding", step="summary"))
    await chat.send("hello")
    replies = await chat.tap("Submit")
    assert "already been sent (status: awaiting verification)" in replies[0].text
    async with sessions() as session, session.begin():
        await session.execute(update(Conversation).values(flow="applications", step="list"))
    replies = await chat.send("hello")
    assert "not allowed" in "\n".join(r.text for r in replies)
    assert (await _doctor(sessions)).status is VerificationStatus.PENDING


async def test_leaving_half_way_resumes_from_the_menu(chat: ChatDriver, specialties):
    await join_as(chat, "doctor", contact="dr.y@example.com")
    await chat.send("Meera Iyer")
    await chat.send("menu")
    replies = await chat.tap("registration details")
    text = "\n".join(r.text for r in replies)
    assert "isn't finished yet" in text and "What is your full name" in text


async def test_a_patient_cannot_enter_the_doctor_application(chat: ChatDriver, sessions):
    await chat.sign_up()
    async with sessions() as session, session.begin():
        from backend.models import Conversation

        await session.execute(update(Conversation).values(flow="doctor_onboarding", step="summary"))
    replies = await chat.send("anything")
    assert "not allowed" in "\n".join(r.text for r in replies)


def test_fee_parsing():
    assert parse_fee("₹500") == 50000
    assert parse_fee("500") == 50000
    assert parse_fee("500.50") == 50050
    assert parse_fee("Rs. 1,500") == 150000
    assert parse_fee("INR 750") == 75000
    for bad in ("", "abc", "5OO", "500.555", "-500", "1e5", "🙂"):
        assert parse_fee(bad) is None


def test_specialties_and_languages_matching():
    names = ["Cardiology", "Dermatology", "General Physician", "Paediatrics"]
    assert match_specialties("cardio, dermatolgy", names) == (["Cardiology", "Dermatology"], [])
    assert match_specialties("4 and general physican", names) == (["Paediatrics", "General Physician"], [])
    assert match_specialties("astrology", names) == ([], ["astrology"])
    assert clean_languages("hindi, English and tamil") == ["Hindi", "English", "Tamil"]
    # Stored by their English names, so the search's language filter finds them.
    assert clean_languages("हिन्दी, अंग्रेज़ी") == ["Hindi", "English"]
    assert clean_languages("हिंदी और hindi") == ["Hindi"]
    assert clean_languages("Tulu") == ["Tulu"]
    assert clean_languages("123") is None


async def test_a_doctor_agrees_to_a_practitioners_terms_and_a_bio_keeps_its_words_without_emoji(
    chat: ChatDriver, sessions, cipher, specialties
):
    await chat.open()
    await chat.tap("doctor, pharmacy or lab")
    await chat.tap("Doctor")
    assert "Before you apply" in chat.text() and "your own registration" in chat.text()
    assert "you choose" not in chat.text()  # not the patient's terms
    await chat.tap("I agree")
    await chat.send("dr.meera@example.com")
    await chat.send(chat.otp.last_code())
    await chat.tap("English")
    await chat.tap("Kolkata")
    for answer in (
        "Meera Iyer",
        "MBBS",
        "Tamil Nadu Medical Council",
        "TNMC-90311",
        "paediatrics",
        "English",
        "500",
    ):
        await chat.send(answer)
    await chat.send("I treat children's coughs and colds. 😊")
    await send_file(chat, sessions, cipher)
    await send_file(
        chat, sessions, cipher, content_type="image/jpeg", data=b"\xff\xd8\xff photo", name="id.jpg"
    )
    await chat.tap("Submit")
    doctor = await _doctor(sessions)
    assert doctor.bio == "I treat children's coughs and colds."
    async with sessions() as session:
        consent = await session.scalar(select(Consent).where(Consent.user_id == doctor.user_id))
    assert consent.kind == "provider_terms"  # what was agreed to, not the patient's terms
