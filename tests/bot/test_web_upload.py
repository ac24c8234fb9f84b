"""Files in the web chat: the 📎 upload reaches the conversation as a file, answers arrive on the
socket; bad files get a clear refusal; an admin opens an application's document through a
short-lived link that nobody else can use."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.accounts import service as accounts
from backend.models import (
    AuditEntry,
    Doctor,
    ProviderDocument,
    Role,
    StoredFile,
    User,
    VerificationStatus,
    new_id,
)
from bot.app import create_app
from bot.web.routes import MAX_UPLOAD_BYTES
from tests.bot.test_web import Browser, web_client

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
STATIC = Path(__file__).resolve().parents[2] / "bot" / "web" / "static"


@pytest.fixture
def client(settings):
    with web_client(create_app(settings)) as client:
        yield client


def upload(client: TestClient, data: bytes, name: str = "licence.pdf", content_type="application/pdf", **kw):
    return client.post("/web/upload", files={"file": (name, data, content_type)}, data={"id": new_id()}, **kw)


def upload_on(tab: Browser, data: bytes, **kw) -> list[dict]:
    response = upload(tab.client, data, **kw)
    assert response.status_code == 200, response.text
    tab.last = tab.receive_replies()  # the answer comes on the socket, like any message
    return tab.last


def asked_for_the_licence(tab: Browser) -> Browser:
    """A doctor applying, up to the step that asks for the licence as a file."""
    tab.tap("doctor, pharmacy or lab")
    tab.tap("Doctor")
    tab.tap("I agree")
    tab.send("dr.meera@example.com")
    tab.send(tab.dev[-1][-6:])
    tab.tap("English")
    tab.tap("Kolkata")
    tab.send("Meera Iyer")
    tab.send("MBBS, MD (Paediatrics)")
    tab.send("Tamil Nadu Medical Council")
    tab.send("TNMC-90311")
    tab.send("paediatrics")
    tab.send("English, Hindi")
    tab.send("500")
    tab.tap("Skip")
    assert tab.last[-1]["request"] == "file"  # the page shows the 📎 hint for this question
    return tab


def apply_as_doctor(tab: Browser) -> None:
    asked_for_the_licence(tab)
    upload_on(tab, PDF)
    upload_on(tab, PNG, name="id.png", content_type="image/png")


def test_a_doctor_applies_with_files_sent_in_the_web_chat(client, in_db):
    tab = Browser(client)
    apply_as_doctor(tab)
    assert "Please check your application" in tab.text()
    tab.tap("Submit")
    assert "application is with our admins" in tab.text()

    async def check(sessions):
        async with sessions() as session:
            doctor = await session.scalar(select(Doctor))
            kinds = sorted((await session.scalars(select(ProviderDocument.kind))).all())
            return doctor.status, kinds

    assert in_db(check) == (VerificationStatus.PENDING, ["id_proof", "licence"])
    tab.close()


@pytest.mark.parametrize(
    ("data", "name", "status", "message"),
    [
        (b"", "empty.pdf", 400, "empty"),
        (b"MZ\x90\x00 not a pdf", "virus.pdf", 415, "Only PDF, JPG or PNG"),
        (b"<svg onload=alert(1)>", "x.png", 415, "Only PDF, JPG or PNG"),
        (b"%PDF-" + b"0" * MAX_UPLOAD_BYTES, "huge.pdf", 413, "larger than 10 MB"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(client, data, name, status, message):
    tab = asked_for_the_licence(Browser(client))
    response = upload(client, data, name=name)
    assert response.status_code == status
    assert message in response.json()["error"]
    tab.close()


def test_uploads_need_the_chat_cookie_and_the_same_origin(client, settings):
    fresh = TestClient(client.app)  # no page visited: no session cookie
    assert upload(fresh, PDF).status_code == 401
    tab = asked_for_the_licence(Browser(client))
    refused = upload(client, PDF, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert client.post("/web/upload", content=b"not multipart").status_code == 400
    tab.close()


def test_a_file_where_no_file_is_asked_is_refused_before_it_is_stored(client, in_db):
    """An anonymous visitor (or any chat not asked for a document) cannot fill the disk."""
    tab = Browser(client)
    for _ in range(3):
        refused = upload(client, PDF)
        assert refused.status_code == 409
        assert refused.json()["error"] == "This chat is not asking for a file right now."

    async def stored(sessions):
        async with sessions() as session:
            return (await session.scalars(select(StoredFile.id))).all()

    assert in_db(stored) == []
    assert "Welcome" in tab.send("hello")[-1]["text"]  # the chat goes on where it was
    tab.close()


def test_text_where_a_document_is_expected_gets_a_clear_message(client):
    tab = Browser(client)
    tab.tap("doctor, pharmacy or lab")
    tab.tap("Pharmacy")
    tab.tap("I agree")
    tab.send("owner@pharmacy.example")
    tab.send(tab.dev[-1][-6:])
    tab.tap("English")
    tab.tap("Kolkata")
    tab.send("Sanjeevani Care")
    tab.send("Bengaluru")
    tab.send("KA-BLR-20B-99")
    replies = tab.send("here is my licence: https://example.com/licence.pdf")
    assert "send the document itself as a file" in replies[0]["text"]
    upload_on(tab, PDF)
    assert "Please check your application" in tab.text()
    tab.close()


def _admin(in_db, cipher, email: str) -> None:
    async def add(sessions):
        async with sessions() as session, session.begin():
            user = User(id=new_id(), role=Role.ADMIN, display_name="Admin Ravi")
            accounts.set_contact(cipher, user, "email", email)
            session.add(user)

    in_db(add)


def sign_in(tab: Browser, email: str) -> None:
    tab.tap("I already have an account")
    tab.send(email)
    tab.send(tab.dev[-1][-6:])


def test_an_admin_opens_the_documents_through_short_lived_links(client, settings, in_db, cipher):
    _admin(in_db, cipher, "admin@example.com")
    doctor_tab = Browser(client)
    apply_as_doctor(doctor_tab)
    doctor_tab.tap("Submit")
    doctor_tab.close()
    client.post("/web/signout")

    admin_tab = Browser(client)
    sign_in(admin_tab, "admin@example.com")
    admin_tab.tap("Applications to review")
    admin_tab.tap("Dr Meera Iyer")
    links = [r["document"] for r in admin_tab.last if r["document"]]
    assert [d["filename"].split("-")[1] for d in links] == ["licence", "id_proof"]
    licence = client.get(links[0]["url"])
    assert licence.status_code == 200 and licence.content == PDF
    assert licence.headers["content-type"] == "application/pdf"
    assert licence.headers["content-disposition"].startswith("attachment")
    assert licence.headers["x-content-type-options"] == "nosniff"
    # A link is the admin's (tests/bot/test_download_links.py: another browser gets the sign-in
    # page); a made-up token reaches nothing.
    assert client.get("/files/not-a-real-token").status_code == 403

    async def reads(sessions):
        async with sessions() as session:
            return (
                await session.scalars(
                    select(AuditEntry.outcome).where(AuditEntry.resource_type == "provider_document")
                )
            ).all()

    outcomes = in_db(reads)
    assert outcomes.count("success") >= 3  # two links made, one download
    admin_tab.close()


def test_the_page_never_puts_message_text_into_html():
    script = (STATIC / "app.js").read_text()
    assert ".innerHTML" not in script and "insertAdjacentHTML" not in script and ".outerHTML" not in script
    assert "https?:" in script  # only http(s) URLs become links
    page = (STATIC / "index.html").read_text()
    assert 'id="attach"' in page and 'id="file-input"' in page
