"""Links to documents through the real routes: a health summary link opens only in a browser
signed in as its owner (a copied link elsewhere gets the sign-in page, never the allergies); the
admin API's 401 reasons and last use (pinned clock); a link the admin API handed out dies with
its token. Both outcomes of every opening are audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.accounts import service as accounts
from backend.models import AdminToken, AuditEntry, FileGrant, Role, User, new_id
from backend.providers import admin_tokens
from bot.app import create_app
from bot.web import documents
from bot.web.routes import COOKIE
from tests.backend.test_admin_api import _pharmacy
from tests.bot.test_web import Browser, web_client

T0 = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)
ALLERGY = "Peanuts and penicillin"


@pytest.fixture
def client(settings):
    with web_client(create_app(settings)) as client:
        yield client


def _summary_link(tab: Browser) -> str:
    tab.tap("My medical profile")
    tab.tap("Allergies")
    tab.tap("Add")
    tab.send(ALLERGY)
    tab.send("back")
    replies = tab.tap("Download")
    document = next(r["document"] for r in replies if r["document"])
    # What the chat says of the link is what the link does: it opens only for its owner.
    assert "only for you" in document["caption"] and "Anyone" not in document["caption"]
    return document["url"]


def _assert_sign_in_page(response) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Sign in to open this document" in response.text
    assert ALLERGY not in response.text and "Asha" not in response.text and "asha" not in response.text
    assert response.headers["cache-control"] == "no-store"


def _openings(in_db) -> list[tuple[str, str]]:
    async def read(sessions):
        async with sessions() as session:
            rows = await session.execute(
                select(AuditEntry.outcome, AuditEntry.purpose)
                .where(AuditEntry.action == "open_link")
                .order_by(AuditEntry.seq)
            )
            return [tuple(row) for row in rows]

    return in_db(read)


def test_a_copied_summary_link_opens_only_for_its_owner(client, in_db, monkeypatch):
    owner = Browser(client)
    owner.sign_up()
    path = _summary_link(owner)
    owner.close()
    owner_cookie = client.cookies.get(COOKIE)

    opened = client.get(path)
    assert opened.status_code == 200 and ALLERGY in opened.text, "the owner's own browser"

    client.cookies.clear()  # the link pasted into another browser
    _assert_sign_in_page(client.get(path))

    other = Browser(client)  # another person, signed in in that browser
    other.sign_up("Ravi Kumar", "ravi@example.com")
    other.close()
    _assert_sign_in_page(client.get(path))

    client.cookies.clear()
    client.cookies.set(COOKIE, owner_cookie)

    async def expiry(sessions):
        async with sessions() as session:
            return await session.scalar(select(FileGrant.expires_at))

    expires_at = in_db(expiry)
    monkeypatch.setattr(documents, "utcnow", lambda: expires_at)  # the clock at the link's expiry
    _assert_sign_in_page(client.get(path))
    assert _openings(in_db) == [
        ("success", "browser"),
        ("denied", "not_yours"),
        ("denied", "not_yours"),
        ("denied", "expired"),
    ]


def test_a_made_up_link_gets_the_same_page_and_no_audit_entry(client, in_db):
    _assert_sign_in_page(client.get("/files/" + "x" * 43))
    _assert_sign_in_page(client.get("/files/" + "x" * 43, params={"media": "1.abc"}))
    assert _openings(in_db) == []


# --- the admin API -----------------------------------------------------------------------------


@pytest.fixture
def admin_world(in_db, cipher):
    """An admin with a token made at T0 for 30 days, and a pending pharmacy with its licence."""

    async def build(sessions):
        async with sessions() as session, session.begin():
            user = User(id=new_id(), role=Role.ADMIN, display_name="Admin Ravi")
            accounts.set_contact(cipher, user, "email", "ravi@example.com")
            session.add(user)
            await session.flush()
            issued = await admin_tokens.create(session, user_id=user.id, name="ops", now=T0)
            pharmacy_id = await _pharmacy(session, cipher, "Sanjeevani Care")
        return issued, pharmacy_id

    return in_db(build)


def _pin(monkeypatch, at: datetime) -> None:
    from backend.api import admin, admin_auth

    for module in (admin, admin_auth, documents):
        monkeypatch.setattr(module, "utcnow", lambda: at)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_expired_token_is_401_saying_so_and_a_use_is_recorded(client, admin_world, in_db, monkeypatch):
    issued, _ = admin_world
    used = T0 + timedelta(days=29, hours=23)
    _pin(monkeypatch, used)
    assert client.get("/api/admin/applications", headers=_bearer(issued.token)).status_code == 200

    async def last_used(sessions):
        async with sessions() as session:
            return await session.scalar(select(AdminToken.last_used_at))

    assert in_db(last_used) == used
    _pin(monkeypatch, T0 + timedelta(days=30))
    expired = client.get("/api/admin/applications", headers=_bearer(issued.token))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert expired.headers["www-authenticate"] == "Bearer"
    unknown = client.get("/api/admin/applications", headers=_bearer("tca_" + "x" * 43))
    assert unknown.status_code == 401 and unknown.json()["detail"] == "The token is unknown or revoked."
    assert in_db(last_used) == used


def test_a_revoked_token_is_401_like_an_unknown_one(client, admin_world, in_db, monkeypatch):
    issued, _ = admin_world
    _pin(monkeypatch, T0)

    async def revoke(sessions):
        async with sessions() as session, session.begin():
            return await admin_tokens.revoke(session, issued.id, now=T0)

    assert in_db(revoke)
    refused = client.get("/api/admin/applications", headers=_bearer(issued.token))
    assert refused.status_code == 401 and refused.json()["detail"] == "The token is unknown or revoked."


def test_a_document_link_from_the_api_dies_with_its_token(client, admin_world, in_db, monkeypatch):
    issued, pharmacy_id = admin_world
    _pin(monkeypatch, T0)
    one = client.get(f"/api/admin/applications/pharmacy/{pharmacy_id}", headers=_bearer(issued.token))
    url = one.json()["documents"][0]["download_url"].removeprefix("http://testserver")
    copied = client.get(url)  # the URL alone, without the token: another browser, a leaked log
    assert copied.status_code == 403 and b"%PDF" not in copied.content
    other = client.get(url, headers=_bearer("not-a-token"))
    assert other.status_code == 403 and b"%PDF" not in other.content
    first = client.get(url, headers=_bearer(issued.token))
    assert first.status_code == 200 and first.content.startswith(b"%PDF")

    async def revoke(sessions):
        async with sessions() as session, session.begin():
            await admin_tokens.revoke(session, issued.id, now=T0)

    in_db(revoke)
    gone = client.get(url, headers=_bearer(issued.token))
    assert gone.status_code == 410 and b"%PDF" not in gone.content
    assert "revoked or has expired" in gone.text
    assert _openings(in_db) == [
        ("denied", "not_yours"),
        ("denied", "not_yours"),
        ("success", "browser"),
        ("denied", "token_dead"),
    ]
