"""Admins review applications in chat: one message per admin per submission with Approve /
Reject / View documents; the first decision wins and the second admin is told who decided; a
rejection asks the reason, the applicant reads it, corrects and resubmits (admins notified
again). Pharmacies and labs the same way, through the "Applications to review" list."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select, update

from backend.models import AuditEntry, Doctor, Lab, OutboxMessage, Pharmacy, Role, User, VerificationStatus
from backend.outbox import preferences
from notifications.dispatcher import Dispatcher
from tests.chat import ChatDriver
from tests.conversations.test_doctor_onboarding import apply_as_doctor, join_as, send_file
from tests.notifications.helpers import RecordingSender


async def _admin(engine, otp_sender, sessions, n: int, name: str) -> ChatDriver:
    chat = ChatDriver(engine, otp_sender, chat_id=f"admin-{n}")
    await chat.sign_up(name=name, contact=f"admin{n}@example.com")
    async with sessions() as session, session.begin():
        user = (await session.scalars(select(User).order_by(User.created_at))).all()[-1]
        await session.execute(
            update(User).where(User.id == user.id).values(role=Role.ADMIN, display_name=name)
        )
        # Applications are not urgent: quiet hours off, so the test does not depend on the hour.
        await preferences.set_quiet_hours(session, user.id, time(0, 0), time(0, 0))
    await chat.send("menu")
    return chat


async def _dispatch(sessions, cipher) -> RecordingSender:
    web = RecordingSender("web")
    await Dispatcher(sessions, cipher, {"web": web}).drain()
    return web


def _notices(web: RecordingSender, template: str) -> list:
    return [n for _, n in web.sent if n.template == template]


async def _quiet_off(sessions, user_id: str) -> None:
    async with sessions() as session, session.begin():
        await preferences.set_quiet_hours(session, user_id, time(0, 0), time(0, 0))


async def _doctor(sessions) -> Doctor:
    async with sessions() as session:
        return await session.scalar(select(Doctor))


async def test_first_admin_wins_the_second_is_told_who_decided(chat, engine, otp_sender, sessions, cipher):
    first = await _admin(engine, otp_sender, sessions, 1, "Admin Ravi")
    second = await _admin(engine, otp_sender, sessions, 2, "Admin Sita")
    await apply_as_doctor(chat, sessions, cipher)
    await _quiet_off(sessions, (await _doctor(sessions)).user_id)
    web = await _dispatch(sessions, cipher)
    alerts = _notices(web, "application_new_doctor")
    assert len(alerts) == 2
    assert "Dr Meera Iyer" in alerts[0].text and "TNMC-90311" in alerts[0].text and "₹500" in alerts[0].text
    assert [a.label for a in alerts[0].actions] == ["Approve", "Reject", "View documents"]
    by_chat = {}
    async with sessions() as session:
        for notice in alerts:
            row = await session.get(OutboxMessage, notice.outbox_id)
            by_chat[row.user_id] = notice
        ids = {u.display_name: u.id for u in (await session.scalars(select(User))).all()}
    ravi, sita = by_chat[ids["Admin Ravi"]], by_chat[ids["Admin Sita"]]

    replies = await first.tap_token(ravi.actions[0].token)
    assert "Dr Meera Iyer is verified" in replies[0].text
    doctor = await _doctor(sessions)
    assert doctor.status is VerificationStatus.VERIFIED and doctor.verified_by == ids["Admin Ravi"]

    replies = await second.tap_token(sita.actions[0].token)
    assert replies[0].text == "This application was already approved by Admin Ravi."
    replies = await second.tap_token(sita.actions[1].token)  # its sibling: one decision per message
    assert "no longer valid" in replies[0].text
    # The same button again (a replay) acts no more.
    assert "no longer valid" in (await first.tap_token(ravi.actions[0].token))[0].text

    web = await _dispatch(sessions, cipher)
    (approved,) = _notices(web, "application_approved")
    assert "application has been verified" in approved.text
    async with sessions() as session:
        decisions = (
            await session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("application_%")))
        ).all()
    assert decisions.count("application_approve") == 1


async def test_viewing_the_documents_leaves_approve_and_reject_usable(
    chat, engine, otp_sender, sessions, cipher
):
    admin = await _admin(engine, otp_sender, sessions, 1, "Admin Ravi")
    await apply_as_doctor(chat, sessions, cipher)
    (alert,) = _notices(await _dispatch(sessions, cipher), "application_new_doctor")
    approve, _, view = alert.actions
    replies = await admin.tap_token(view.token)
    assert any(reply.document for reply in replies)  # the licence and the ID proof, as documents
    await admin.tap_token(view.token)  # looking twice is fine too
    replies = await admin.tap_token(approve.token)
    assert "Dr Meera Iyer is verified" in replies[0].text


async def test_a_non_admin_pressing_an_admins_button_changes_nothing(
    chat, engine, otp_sender, sessions, cipher
):
    await _admin(engine, otp_sender, sessions, 1, "Admin Ravi")
    await apply_as_doctor(chat, sessions, cipher)
    (alert,) = _notices(await _dispatch(sessions, cipher), "application_new_doctor")
    # The applicant themself, with the admin's token (forwarded, guessed):
    replies = await chat.tap_token(alert.actions[0].token)
    assert "no longer valid" in replies[0].text
    assert (await _doctor(sessions)).status is VerificationStatus.PENDING


async def test_reject_asks_the_reason_and_the_applicant_corrects_and_resubmits(
    chat, engine, otp_sender, sessions, cipher
):
    admin = await _admin(engine, otp_sender, sessions, 1, "Admin Ravi")
    await apply_as_doctor(chat, sessions, cipher)
    await _quiet_off(sessions, (await _doctor(sessions)).user_id)
    (alert,) = _notices(await _dispatch(sessions, cipher), "application_new_doctor")
    replies = await admin.tap_token(alert.actions[1].token)
    assert "Why are you rejecting Dr Meera Iyer?" in replies[-1].text
    assert "between" not in replies[-1].text
    replies = await admin.send("x" * 501)
    assert "1 to 500 characters" in replies[0].text
    replies = await admin.send("The licence photo is blurred 📷 — please send a clear scan.")
    assert "was rejected" in replies[0].text
    doctor = await _doctor(sessions)
    assert doctor.status is VerificationStatus.REJECTED
    assert doctor.rejection_reason == "The licence photo is blurred 📷 — please send a clear scan."

    (rejected,) = _notices(await _dispatch(sessions, cipher), "application_rejected")
    assert "Reason: The licence photo is blurred" in rejected.text
    replies = await chat.tap_token(rejected.actions[0].token)
    text = "\n".join(r.text for r in replies)
    assert "not approved. Reason: The licence photo is blurred" in text and "Meera Iyer" in text
    await chat.tap("Change an answer")
    await chat.tap("Licence")
    await send_file(chat, sessions, cipher, name="clear-scan.pdf")
    assert "Please check your application" in chat.text()
    await chat.tap("Submit")
    doctor = await _doctor(sessions)
    assert doctor.status is VerificationStatus.PENDING and doctor.rejection_reason is None
    alerts = _notices(await _dispatch(sessions, cipher), "application_new_doctor")
    assert len(alerts) == 1 and "(submission 2)" in alerts[0].text


async def test_the_menu_shows_a_rejection_and_opens_the_correction(
    chat, engine, otp_sender, sessions, cipher
):
    admin = await _admin(engine, otp_sender, sessions, 1, "Admin Ravi")
    await apply_as_doctor(chat, sessions, cipher)
    await admin.tap("Applications to review")
    await admin.tap("Dr Meera Iyer")
    assert [r.document.filename for r in admin.last if r.document] == [
        "doctor-licence-1.pdf",
        "doctor-id_proof-2.jpg",
    ]
    await admin.tap("Reject")
    await admin.send("Wrong council")
    replies = await chat.tap("registration details")
    text = "\n".join(r.text for r in replies)
    assert "Reason: Wrong council" in text and "Please check your application" in text


async def test_pharmacies_and_labs_are_reviewed_the_same_way(chat, engine, otp_sender, sessions, cipher):
    admin = await _admin(engine, otp_sender, sessions, 1, "Admin Ravi")
    await join_as(chat, "pharmacy", contact="owner@pharmacy.example")
    await chat.send("Sanjeevani Care")
    await chat.send("Bengaluru")
    await chat.send("KA-BLR-20B-99")
    await send_file(chat, sessions, cipher)
    await chat.tap("Submit")
    lab = ChatDriver(engine, otp_sender, chat_id="lab")
    await join_as(lab, "lab", contact="owner@lab.example")
    await lab.send("PathCare North")
    await lab.send("New Delhi")
    await lab.send("NABL MC-9999")
    await lab.tap("Yes")
    await send_file(lab, sessions, cipher, content_type="image/png", data=b"\x89PNG\r\n\x1a\n")
    await lab.tap("Submit")
    # A pending pharmacy sees its status in its menu, not the stock.
    replies = await chat.tap("Stock")
    assert "awaiting verification" in replies[0].text

    await admin.tap("Applications to review")
    assert "2 waiting" in admin.text()
    await admin.tap("Sanjeevani Care")
    assert "Licence number: KA-BLR-20B-99" in admin.text()
    await admin.tap("Approve")
    assert "Sanjeevani Care is verified" in admin.text()
    await admin.tap("PathCare North")
    assert "Home collection: Yes" in admin.text()
    await admin.tap("Reject")
    await admin.send("Accreditation expired")
    async with sessions() as session:
        pharmacy, lab_row = await session.scalar(select(Pharmacy)), await session.scalar(select(Lab))
    assert pharmacy.status is VerificationStatus.VERIFIED
    assert (lab_row.status, lab_row.rejection_reason) == (
        VerificationStatus.REJECTED,
        "Accreditation expired",
    )
    assert "No applications are waiting" in admin.text()


async def test_the_list_is_paginated(engine, otp_sender, sessions, cipher):
    admin = await _admin(engine, otp_sender, sessions, 1, "Admin Ravi")
    for n in range(6):
        applicant = ChatDriver(engine, otp_sender, chat_id=f"ph-{n}")
        await join_as(applicant, "pharmacy", contact=f"ph{n}@example.com")
        for answer in (f"Pharmacy Number {'ABCDEF'[n]}", "Pune", f"MH-{n}-22"):
            await applicant.send(answer)
        await send_file(applicant, sessions, cipher)
        await applicant.tap("Submit")
    await admin.tap("Applications to review")
    assert "6 waiting for review (showing 1–5" in admin.text()
    assert len([label for label in admin.labels() if label.startswith("💊")]) == 5
    await admin.tap("More")
    assert "(showing 6–6" in admin.text()


async def test_a_patient_cannot_open_the_review(chat, sessions):
    await chat.sign_up()
    async with sessions() as session, session.begin():
        from backend.models import Conversation

        await session.execute(update(Conversation).values(flow="applications", step="list"))
    replies = await chat.send("hello")
    assert "not allowed" in "\n".join(r.text for r in replies)
