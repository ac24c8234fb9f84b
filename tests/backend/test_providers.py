"""The application service: submission rules, the first decision wins (also under concurrency),
admin tokens stored only as digests, document links only for admins."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from backend.access import AccessDenied, Actor
from backend.accounts.chats import new_identity
from backend.models import (
    AdminToken,
    Pharmacy,
    Role,
    StoredFile,
    User,
    VerificationStatus,
    new_id,
)
from backend.providers import admin_tokens
from backend.providers import service as providers
from tests.keys import run_cipher

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def _user(session, role: Role, name: str | None = None) -> User:
    user = User(id=new_id(), role=role, display_name=name)
    session.add(user)
    await session.flush()
    return user


async def _file(session, cipher, user: User, content_type="application/pdf") -> str:
    identity = new_identity(run_cipher(), "web", new_id(), user_id=user.id)
    session.add(identity)
    await session.flush()
    stored = StoredFile(
        id=new_id(),
        identity_id=identity.id,
        user_id=user.id,
        channel="web",
        platform_file_id="x",
        content_type=content_type,
        size=4,
    )
    stored.filename_enc = cipher.encrypt("stored_files", "filename", stored.id, "f")
    stored.content_enc = cipher.encrypt_bytes("stored_files", "content", stored.id, b"%PDF")
    session.add(stored)
    await session.flush()
    return stored.id


async def _pending_pharmacy(session, cipher, name="Care Pharmacy") -> tuple[User, str]:
    user = await _user(session, Role.PHARMACY)
    application = await providers.submit(
        session,
        cipher,
        user=user,
        details=providers.PharmacyDetails(name, "Pune", "MH-1"),
        documents={"licence": await _file(session, cipher, user)},
    )
    return user, application.id


async def test_submission_rules(sessions, cipher):
    async with sessions() as session, session.begin():
        patient = await _user(session, Role.PATIENT)
        with pytest.raises(providers.ApplicationError) as wrong:
            await providers.submit(
                session, cipher, user=patient, details=providers.PharmacyDetails("A", "B", "C"), documents={}
            )
        assert wrong.value.reason == "wrong_role"
        user = await _user(session, Role.PHARMACY)
        stranger = await _user(session, Role.PHARMACY)
        theirs = await _file(session, cipher, stranger)
        for details, documents, reason in (
            (providers.PharmacyDetails("", "Pune", "MH"), {}, "invalid_field"),
            (providers.PharmacyDetails("x" * 121, "Pune", "MH"), {}, "invalid_field"),
            (providers.PharmacyDetails("Care", "Pune", "MH"), {}, "document_missing"),
            (providers.PharmacyDetails("Care", "Pune", "MH"), {"licence": theirs}, "document_refused"),
            (
                providers.PharmacyDetails("Care", "Pune", "MH"),
                {"licence": await _file(session, cipher, user, "application/zip")},
                "document_refused",
            ),
        ):
            with pytest.raises(providers.ApplicationError) as refused:
                await providers.submit(session, cipher, user=user, details=details, documents=documents)
            assert refused.value.reason == reason
        await providers.submit(
            session,
            cipher,
            user=user,
            details=providers.PharmacyDetails("Care", "Pune", "MH"),
            documents={"licence": await _file(session, cipher, user)},
        )
        with pytest.raises(providers.ApplicationError) as twice:
            await providers.submit(
                session,
                cipher,
                user=user,
                details=providers.PharmacyDetails("Care", "Pune", "MH"),
                documents={"licence": await _file(session, cipher, user)},
            )
        assert twice.value.reason == "already_submitted"
        other = await _user(session, Role.PHARMACY)
        with pytest.raises(providers.ApplicationError) as same_name:
            await providers.submit(
                session,
                cipher,
                user=other,
                details=providers.PharmacyDetails("CARE", "Pune", "X"),
                documents={"licence": await _file(session, cipher, other)},
            )
        assert same_name.value.reason == "duplicate_name"


async def test_only_admins_decide_and_the_refusal_is_audited(sessions, cipher):
    async with sessions() as session, session.begin():
        user, pharmacy_id = await _pending_pharmacy(session, cipher)
        with pytest.raises(AccessDenied):
            await providers.approve(
                session,
                cipher,
                Actor(user.id, Role.PHARMACY),
                providers.ProviderKind.PHARMACY,
                pharmacy_id,
                now=NOW,
            )
        assert (await session.get(Pharmacy, pharmacy_id)).status is VerificationStatus.PENDING


async def test_concurrent_decisions_one_wins(sessions, cipher):
    async with sessions() as session, session.begin():
        admins = [await _user(session, Role.ADMIN, f"Admin {n}") for n in range(5)]
        _, pharmacy_id = await _pending_pharmacy(session, cipher)

    async def decide(n: int):
        async with sessions() as session, session.begin():
            actor = Actor(admins[n].id, Role.ADMIN)
            try:
                if n % 2:
                    await providers.reject(
                        session, cipher, actor, providers.ProviderKind.PHARMACY, pharmacy_id, "no", now=NOW
                    )
                else:
                    await providers.approve(
                        session, cipher, actor, providers.ProviderKind.PHARMACY, pharmacy_id, now=NOW
                    )
                return "won"
            except providers.AlreadyDecided as decided:
                return decided.application.decided_by

    outcomes = await asyncio.gather(*(decide(n) for n in range(5)))
    assert outcomes.count("won") == 1
    async with sessions() as session:
        pharmacy = await session.get(Pharmacy, pharmacy_id)
    assert {o for o in outcomes if o != "won"} == {pharmacy.verified_by}


async def test_tokens_are_stored_as_digests_and_stop_when_revoked(sessions):
    async with sessions() as session, session.begin():
        admin = await _user(session, Role.ADMIN)
        patient = await _user(session, Role.PATIENT)
        issued = await admin_tokens.create(session, user_id=admin.id, name="  ops   laptop ")
        with pytest.raises(admin_tokens.TokenError):
            await admin_tokens.create(session, user_id=patient.id, name="x")
        with pytest.raises(admin_tokens.TokenError):
            await admin_tokens.create(session, user_id=admin.id, name="   ")
        row = await session.scalar(select(AdminToken))
        assert row.name == "ops laptop" and issued.token not in (row.token_digest, row.name)
        assert row.token_digest == hashlib.sha256(issued.token.encode()).hexdigest()
        assert (await admin_tokens.verify(session, issued.token)) == Actor(admin.id, Role.ADMIN)
        assert await admin_tokens.verify(session, issued.token + "x") is None
        assert await admin_tokens.verify(session, "") is None
        assert await admin_tokens.revoke(session, issued.id) is True
        assert await admin_tokens.revoke(session, issued.id) is False
        assert await admin_tokens.verify(session, issued.token) is None


async def test_document_links_are_for_admins_only(sessions, cipher):
    async with sessions() as session, session.begin():
        user, pharmacy_id = await _pending_pharmacy(session, cipher)
        admin = await _user(session, Role.ADMIN)
        application = await providers.get_application(session, providers.ProviderKind.PHARMACY, pharmacy_id)
        (document,) = application.documents
        with pytest.raises(AccessDenied):
            await providers.document_link(
                session, Actor(user.id, Role.PHARMACY), document.id, now=NOW, channel="web"
            )
        token = await providers.document_link(
            session, Actor(admin.id, Role.ADMIN), document.id, now=NOW, channel="web"
        )
        assert token
        read = await providers.read_document(session, cipher, Actor(admin.id, Role.ADMIN), document.id)
        assert read.data == b"%PDF" and read.content_type == "application/pdf"
    assert providers.document_of_grant(providers.grant_kind(document.id)) == document.id
    assert len(providers.grant_kind(document.id)) <= 32
    assert (
        providers.document_of_grant("pdoc:!!!") is None
        and providers.document_of_grant("profile_summary") is None
    )
