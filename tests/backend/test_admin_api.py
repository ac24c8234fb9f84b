"""The admin REST API: bearer tokens (401 for missing, forged, revoked), OpenAPI documents it,
list / get (with document links) / approve / reject, 404 for unknown ids or another kind's id,
409 when already decided, 422 without a reason."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.accounts import service as accounts
from backend.accounts.chats import new_identity
from backend.models import (
    AuditEntry,
    OutboxMessage,
    Pharmacy,
    Role,
    StoredFile,
    User,
    VerificationStatus,
    new_id,
)
from backend.providers import admin_tokens
from backend.providers import service as providers
from bot.app import create_app
from tests.keys import run_cipher

PDF = b"%PDF-1.4 test"


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as client:
        yield client


async def _pharmacy(session, cipher, name: str) -> str:
    """A pending pharmacy application with its licence, as the chat would file it."""

    user = User(id=new_id(), role=Role.PHARMACY)
    session.add(user)
    await session.flush()
    identity = new_identity(run_cipher(), "web", new_id(), user_id=user.id)
    session.add(identity)
    await session.flush()
    stored = StoredFile(
        id=new_id(),
        identity_id=identity.id,
        user_id=user.id,
        channel="web",
        platform_file_id="x",
        content_type="application/pdf",
        size=len(PDF),
    )
    stored.filename_enc = cipher.encrypt("stored_files", "filename", stored.id, "licence.pdf")
    stored.content_enc = cipher.encrypt_bytes("stored_files", "content", stored.id, PDF)
    session.add(stored)
    await session.flush()
    application = await providers.submit(
        session,
        cipher,
        user=user,
        details=providers.PharmacyDetails(name, "Pune", "MH-1"),
        documents={"licence": stored.id},
    )
    return application.id


@pytest.fixture
def world(in_db, cipher):
    """Two admins with a token each (one revoked later), one pending pharmacy."""

    async def build(sessions):
        async with sessions() as session, session.begin():
            admins = []
            for n, name in enumerate(("Admin Ravi", "Admin Sita")):
                user = User(id=new_id(), role=Role.ADMIN, display_name=name)
                accounts.set_contact(cipher, user, "email", f"admin{n}@example.com")
                session.add(user)
                await session.flush()
                admins.append(await admin_tokens.create(session, user_id=user.id, name=f"laptop {n}"))
            pharmacy_id = await _pharmacy(session, cipher, "Sanjeevani Care")
        return admins, pharmacy_id

    return in_db(build)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_forged_and_revoked_tokens_are_401(client, world, in_db):
    (ravi, _), _ = world
    assert client.get("/api/admin/applications").status_code == 401
    assert client.get("/api/admin/applications", headers=bearer("tca_forged")).status_code == 401
    assert client.get("/api/admin/applications", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/admin/applications", headers=bearer(ravi.token)).status_code == 200

    async def revoke(sessions):
        async with sessions() as session, session.begin():
            return await admin_tokens.revoke(session, ravi.id)

    assert in_db(revoke) is True
    refused = client.get("/api/admin/applications", headers=bearer(ravi.token))
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"

    async def audited(sessions):
        async with sessions() as session:
            return (
                await session.scalars(select(AuditEntry.outcome).where(AuditEntry.action == "admin_api"))
            ).all()

    assert in_db(audited) == ["success", "denied"]


def test_openapi_documents_the_bearer_scheme_and_models(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["AdminBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An admin API token from `telecare admin-token create --email … --name …`.",
    }
    operation = schema["paths"]["/api/admin/applications/{kind}/{application_id}/reject"]["post"]
    assert operation["security"] == [{"AdminBearer": []}]
    assert {"401", "404", "409", "422"} <= set(operation["responses"])
    assert "ApplicationOut" in schema["components"]["schemas"]


def test_list_get_and_download_a_document(client, world):
    (ravi, _), pharmacy_id = world
    listed = client.get(
        "/api/admin/applications", params={"kind": "pharmacy"}, headers=bearer(ravi.token)
    ).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == pharmacy_id
    assert (
        client.get("/api/admin/applications", params={"kind": "doctor"}, headers=bearer(ravi.token)).json()[
            "total"
        ]
        == 0
    )
    one = client.get(f"/api/admin/applications/pharmacy/{pharmacy_id}", headers=bearer(ravi.token)).json()
    assert one["details"] == {"city": "Pune", "licence_number": "MH-1"} and one["status"] == "pending"
    (document,) = one["documents"]
    assert document["kind"] == "licence" and document["download_url"].startswith("http://testserver/files/")
    fetched = client.get(
        document["download_url"].removeprefix("http://testserver"), headers=bearer(ravi.token)
    )
    assert fetched.status_code == 200 and fetched.content == PDF


def test_unknown_ids_and_another_kinds_id_are_404(client, world):
    (ravi, _), pharmacy_id = world
    h = bearer(ravi.token)
    assert client.get(f"/api/admin/applications/lab/{pharmacy_id}", headers=h).status_code == 404
    assert client.post(f"/api/admin/applications/doctor/{pharmacy_id}/approve", headers=h).status_code == 404
    assert client.get("/api/admin/applications/pharmacy/nope", headers=h).status_code == 404
    assert client.get("/api/admin/applications/astrologer/x", headers=h).status_code == 422


def test_approve_then_a_second_decision_is_409_naming_who(client, world, in_db):
    (ravi, sita), pharmacy_id = world
    done = client.post(f"/api/admin/applications/pharmacy/{pharmacy_id}/approve", headers=bearer(ravi.token))
    assert done.status_code == 200 and done.json()["status"] == "verified"
    assert done.json()["decided_by_name"] == "Admin Ravi"
    again = client.post(
        f"/api/admin/applications/pharmacy/{pharmacy_id}/reject",
        headers=bearer(sita.token),
        json={"reason": "late"},
    )
    assert again.status_code == 409
    assert again.json()["decided_by_name"] == "Admin Ravi" and again.json()["status"] == "verified"
    replay = client.post(
        f"/api/admin/applications/pharmacy/{pharmacy_id}/approve", headers=bearer(ravi.token)
    )
    assert replay.status_code == 409

    async def state(sessions):
        async with sessions() as session:
            pharmacy = await session.get(Pharmacy, pharmacy_id)
            told = (
                await session.scalars(
                    select(OutboxMessage.template).where(OutboxMessage.user_id == pharmacy.user_id)
                )
            ).all()
            return pharmacy.status, told

    assert in_db(state) == (VerificationStatus.VERIFIED, ["application_approved"])


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}])
def test_reject_needs_a_reason(client, world, body):
    (ravi, _), pharmacy_id = world
    kwargs = {} if body is None else {"json": body}
    refused = client.post(
        f"/api/admin/applications/pharmacy/{pharmacy_id}/reject", headers=bearer(ravi.token), **kwargs
    )
    assert refused.status_code == 422


def test_reject_with_a_reason_tells_the_applicant(client, world, in_db):
    (ravi, _), pharmacy_id = world
    done = client.post(
        f"/api/admin/applications/pharmacy/{pharmacy_id}/reject",
        headers=bearer(ravi.token),
        json={"reason": "Licence expired 🙁"},
    )
    assert done.status_code == 200 and done.json()["rejection_reason"] == "Licence expired 🙁"
    rejected = client.get(
        "/api/admin/applications", params={"status": "rejected"}, headers=bearer(ravi.token)
    ).json()
    assert [a["id"] for a in rejected["items"]] == [pharmacy_id]
