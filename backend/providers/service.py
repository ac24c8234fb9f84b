"""Applications to join as a doctor, pharmacy or lab, and their verification by admins.

One lifecycle for the three kinds: submitted (status pending, documents attached, every active
admin notified) → approved (verified) or rejected with a reason → the applicant corrects and
resubmits (pending again, admins notified again). The first decision wins: it is one conditional
UPDATE … WHERE status = 'pending', so two admins (or a replayed button) cannot both decide.
Every submission and decision is audited; every message goes through the outbox in the same
transaction. Services take the session first and never commit."""

from __future__ import annotations

import base64
import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import AccessDenied, Action, Actor, Resource, can
from backend.crypto import FieldCipher
from backend.files import service as files
from backend.models import (
    AuditEntry,
    ChannelIdentity,
    Doctor,
    Lab,
    Pharmacy,
    ProviderDocument,
    Role,
    Specialty,
    StoredFile,
    User,
    VerificationStatus,
    new_id,
)
from backend.outbox import service as outbox


class ProviderKind(enum.StrEnum):
    DOCTOR = "doctor"
    PHARMACY = "pharmacy"
    LAB = "lab"


MODELS: dict[ProviderKind, type[Doctor] | type[Pharmacy] | type[Lab]] = {
    ProviderKind.DOCTOR: Doctor,
    ProviderKind.PHARMACY: Pharmacy,
    ProviderKind.LAB: Lab,
}
ROLES = {ProviderKind.DOCTOR: Role.DOCTOR, ProviderKind.PHARMACY: Role.PHARMACY, ProviderKind.LAB: Role.LAB}
# The documents each kind must send, in the order they are asked for.
REQUIRED_DOCUMENTS: dict[ProviderKind, tuple[str, ...]] = {
    ProviderKind.DOCTOR: ("licence", "id_proof"),
    ProviderKind.PHARMACY: ("licence",),
    ProviderKind.LAB: ("accreditation",),
}
DOCUMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

# Fees: ₹50 to ₹20,000 a consultation (a typo such as an extra zero is caught, not published).
FEE_MIN_MINOR = 50_00
FEE_MAX_MINOR = 20_000_00
MAX_REASON_CHARS = 500  # the column's size
MAX_SPECIALTIES = 5
MAX_LANGUAGES = 8
MAX_BIO_CHARS = 1000
# Field limits follow the columns (backend/models/directory.py).
LIMITS = {
    "full_name": 120,
    "qualification": 200,
    "council": 120,
    "registration_number": 64,
    "name": 120,
    "city": 80,
    "licence_number": 64,
    "accreditation": 64,
    "language": 40,
}
# Offered when the directory has no specialties yet (a fresh install without demo data), so the
# first doctor can still apply. The names match the demo data's.
STANDARD_SPECIALTIES = (
    "General Physician",
    "Paediatrics",
    "Dermatology",
    "Gynaecology",
    "Psychiatry",
    "Cardiology",
    "Endocrinology",
    "ENT",
    "Orthopaedics",
    "Ophthalmology",
    "Neurology",
    "Gastroenterology",
    "Pulmonology",
    "Nephrology",
    "Urology",
    "Dentistry",
)

# Notifications (backend/outbox): "staff" is not a kind anyone can mute.
STAFF_KIND = "staff"
REVIEW_ACTION = "application_review"  # handler: conversations/flows/applications.py
RESUBMIT_ACTION = "application_resubmit"  # handler: conversations/flows/applications.py
PROVIDER_DOCUMENT = "provider_document"  # access rule kind and audit resource type


# --- errors ----------------------------------------------------------------------------------


class ApplicationError(ValueError):
    """An application that cannot be taken; `reason` names the problem for the user's message."""

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class ApplicationNotFound(LookupError):
    pass


class AlreadyDecided(Exception):
    """Somebody decided first. Carries who and what, for "already approved by …"."""

    def __init__(self, application: Application) -> None:
        super().__init__(f"already {application.status}")
        self.application = application


# --- what is submitted and what is shown -----------------------------------------------------


@dataclass(frozen=True)
class DoctorDetails:
    full_name: str
    qualification: str
    council: str
    registration_number: str
    specialty_ids: tuple[str, ...]
    languages: tuple[str, ...]
    fee_minor: int
    bio: str = ""
    currency: str = "INR"


@dataclass(frozen=True)
class PharmacyDetails:
    name: str
    city: str
    licence_number: str


@dataclass(frozen=True)
class LabDetails:
    name: str
    city: str
    accreditation: str
    home_collection: bool


Details = DoctorDetails | PharmacyDetails | LabDetails
_KIND_OF = {
    DoctorDetails: ProviderKind.DOCTOR,
    PharmacyDetails: ProviderKind.PHARMACY,
    LabDetails: ProviderKind.LAB,
}


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    kind: str  # licence | id_proof | accreditation
    content_type: str
    size: int
    created_at: datetime


@dataclass(frozen=True)
class Application:
    kind: ProviderKind
    id: str
    user_id: str
    name: str
    status: VerificationStatus
    submitted_at: datetime
    submission: int  # 1 for the first submission, 2 after the first resubmission, …
    details: dict[str, object] = field(default_factory=dict)
    documents: tuple[DocumentInfo, ...] = ()
    decided_by: str | None = None  # the admin's user id
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    rejection_reason: str | None = None

    @property
    def ref(self) -> str:
        """ "doctor:<id>": how buttons and conversations name an application."""
        return f"{self.kind.value}:{self.id}"


@dataclass(frozen=True)
class Page:
    items: list[Application]
    total: int


def parse_ref(ref: str | None) -> tuple[ProviderKind, str] | None:
    if not ref or ":" not in ref:
        return None
    kind, _, application_id = ref.partition(":")
    try:
        return ProviderKind(kind), application_id[:32]
    except ValueError:
        return None


def clean_text(text: str, limit: int) -> str | None:
    """Whitespace collapsed; None when empty or longer than `limit`."""
    cleaned = " ".join((text or "").split())
    return cleaned if cleaned and len(cleaned) <= limit else None


# --- specialties -----------------------------------------------------------------------------


async def known_specialties(session: AsyncSession) -> list[Specialty]:
    """The directory's specialties; the standard ones are added first if there are none at all."""
    rows = list(await session.scalars(select(Specialty).order_by(Specialty.name)))
    if rows:
        return rows
    for name in STANDARD_SPECIALTIES:
        session.add(Specialty(id=new_id(), name=name))
    await session.flush()
    return list(await session.scalars(select(Specialty).order_by(Specialty.name)))


# --- submitting ------------------------------------------------------------------------------


async def application_of(session: AsyncSession, kind: ProviderKind, user_id: str):
    model = MODELS[kind]
    return await session.scalar(select(model).where(model.user_id == user_id))


async def submit(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    user: User,
    details: Details,
    documents: dict[str, str],
    channel: str | None = None,
) -> Application:
    """File (or, after a rejection, refile) the user's application, pending review.

    `documents` maps each required document kind to a stored file id the user sent. Raises
    ApplicationError with reason: "wrong_role", "already_submitted" (pending or verified),
    "invalid_field" (details["field"]), "duplicate_registration", "duplicate_name",
    "document_missing" / "document_refused" (details["document"])."""
    kind = _KIND_OF[type(details)]
    if user.role is not ROLES[kind]:
        raise ApplicationError("wrong_role")
    _validate(kind, details)
    model = MODELS[kind]
    row = await session.scalar(select(model).where(model.user_id == user.id).with_for_update())
    if row is not None and row.status is not VerificationStatus.REJECTED:
        raise ApplicationError("already_submitted", status=row.status.value)
    files_by_kind = await _check_documents(session, user, kind, documents)
    await _refuse_duplicates(session, kind, details, own_id=row.id if row else None)
    if row is None:
        row = model(id=new_id(), user_id=user.id)
    await _fill(session, kind, row, details, user)
    row.status = VerificationStatus.PENDING
    row.verified_by = row.verified_at = row.rejection_reason = None
    try:
        async with session.begin_nested():  # two chats racing for one registration number
            session.add(row)
            await session.flush()
    except IntegrityError as clash:
        reason = "duplicate_registration" if kind is ProviderKind.DOCTOR else "duplicate_name"
        raise ApplicationError(reason) from clash
    await _attach(session, kind, row.id, files_by_kind)
    user.display_name = _display_name(kind, details)
    actor = Actor(user.id, user.role)
    await audit.record(
        session,
        actor=actor,
        action="application_submit",
        resource_type=kind.value,
        resource_id=row.id,
        channel=channel,
    )
    application = await get_application(session, kind, row.id)
    await notify_admins(session, cipher, application)
    return application


def _validate(kind: ProviderKind, details: Details) -> None:
    def text(name: str, value: str, limit_key: str | None = None) -> None:
        if clean_text(value, LIMITS[limit_key or name]) != value:
            raise ApplicationError("invalid_field", field=name)

    if isinstance(details, DoctorDetails):
        for name in ("full_name", "qualification", "council", "registration_number"):
            text(name, getattr(details, name))
        if not 1 <= len(details.specialty_ids) <= MAX_SPECIALTIES:
            raise ApplicationError("invalid_field", field="specialties")
        if not 1 <= len(details.languages) <= MAX_LANGUAGES:
            raise ApplicationError("invalid_field", field="languages")
        for language in details.languages:
            text("languages", language, "language")
        if not FEE_MIN_MINOR <= details.fee_minor <= FEE_MAX_MINOR or details.currency != "INR":
            raise ApplicationError("invalid_field", field="fee")
        if len(details.bio) > MAX_BIO_CHARS:
            raise ApplicationError("invalid_field", field="bio")
    elif isinstance(details, PharmacyDetails):
        for name in ("name", "city", "licence_number"):
            text(name, getattr(details, name))
    else:
        for name in ("name", "city", "accreditation"):
            text(name, getattr(details, name))


async def _check_documents(
    session: AsyncSession, user: User, kind: ProviderKind, documents: dict[str, str]
) -> dict[str, StoredFile]:
    found: dict[str, StoredFile] = {}
    for document in REQUIRED_DOCUMENTS[kind]:
        file_id = documents.get(document)
        stored = await session.get(StoredFile, file_id[:32]) if file_id else None
        if stored is None:
            raise ApplicationError("document_missing", document=document)
        # The file must be the applicant's own (sent from one of their chats) and of a kind an
        # admin can open safely.
        owner = stored.user_id
        if owner is None:  # sent before the chat was linked: whoever owns the chat now
            identity = await session.get(ChannelIdentity, stored.identity_id)
            owner = identity.user_id if identity else None
        if owner != user.id or stored.content_type not in DOCUMENT_TYPES:
            raise ApplicationError("document_refused", document=document)
        stored.user_id = user.id
        found[document] = stored
    return found


async def _refuse_duplicates(session: AsyncSession, kind: ProviderKind, details: Details, own_id: str | None):
    """Case-insensitive checks before the database's exact unique constraints, so "KMC-1" and
    "kmc-1" at the same council are one registration."""
    model = MODELS[kind]
    if isinstance(details, DoctorDetails):
        query = select(Doctor.id).where(
            func.lower(Doctor.council) == details.council.lower(),
            func.lower(Doctor.registration_number) == details.registration_number.lower(),
        )
        reason = "duplicate_registration"
    else:
        query = select(model.id).where(func.lower(model.name) == details.name.lower())
        reason = "duplicate_name"
    if own_id is not None:
        query = query.where(model.id != own_id)
    if await session.scalar(query.limit(1)):
        raise ApplicationError(reason)


async def _fill(session: AsyncSession, kind: ProviderKind, row, details: Details, user: User) -> None:
    if isinstance(details, DoctorDetails):
        specialties = list(
            await session.scalars(select(Specialty).where(Specialty.id.in_(details.specialty_ids)))
        )
        if len(specialties) != len(set(details.specialty_ids)):
            raise ApplicationError("invalid_field", field="specialties")
        row.full_name = details.full_name
        row.qualification = details.qualification
        row.council = details.council
        row.registration_number = details.registration_number
        row.languages = list(details.languages)
        row.fee_minor = details.fee_minor
        row.currency = details.currency
        row.bio = details.bio
        row.timezone = user.timezone
        row.specialties = specialties
    elif isinstance(details, PharmacyDetails):
        row.name, row.city, row.licence_number = details.name, details.city, details.licence_number
    else:
        row.name, row.city, row.accreditation = details.name, details.city, details.accreditation
        row.home_collection = details.home_collection


async def _attach(session: AsyncSession, kind: ProviderKind, provider_id: str, found: dict[str, StoredFile]):
    """One document row per required kind: a resubmission with a new file replaces the old row."""
    current = {
        d.kind: d
        for d in await session.scalars(
            select(ProviderDocument).where(
                ProviderDocument.provider_kind == kind.value, ProviderDocument.provider_id == provider_id
            )
        )
    }
    for document, stored in found.items():
        old = current.get(document)
        if old is not None and old.stored_file_id == stored.id:
            continue
        if old is not None:
            await session.delete(old)
        session.add(
            ProviderDocument(
                provider_kind=kind.value, provider_id=provider_id, kind=document, stored_file_id=stored.id
            )
        )
    await session.flush()


def _display_name(kind: ProviderKind, details: Details) -> str:
    if isinstance(details, DoctorDetails):
        return f"Dr {details.full_name}"[:120]
    return details.name


# --- reading ---------------------------------------------------------------------------------


async def get_application(session: AsyncSession, kind: ProviderKind, application_id: str) -> Application:
    row = await session.get(MODELS[kind], (application_id or "")[:32], populate_existing=True)
    if row is None:
        raise ApplicationNotFound(application_id)
    return await _view(session, kind, row)


async def list_applications(
    session: AsyncSession,
    *,
    kind: ProviderKind | None = None,
    status: VerificationStatus | None = VerificationStatus.PENDING,
    offset: int = 0,
    limit: int = 20,
) -> Page:
    """Applications, oldest first (the longest waiting at the top), across kinds unless one is given."""
    kinds = [kind] if kind else list(ProviderKind)
    offset, limit = max(0, offset), max(1, min(limit, 100))
    rows: list[tuple[datetime, str, ProviderKind, object]] = []
    total = 0
    for each in kinds:
        model = MODELS[each]
        where = [model.status == status] if status else []
        total += await session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        # Enough of each kind to fill the page after merging.
        found = await session.scalars(
            select(model).where(*where).order_by(model.created_at, model.id).limit(offset + limit)
        )
        rows.extend((r.created_at, r.id, each, r) for r in found)
    rows.sort(key=lambda item: (item[0], item[1]))
    return Page(
        items=[await _view(session, k, r) for _, _, k, r in rows[offset : offset + limit]], total=total
    )


async def pending_count(session: AsyncSession) -> int:
    return (await list_applications(session, limit=1)).total


async def _view(session: AsyncSession, kind: ProviderKind, row) -> Application:
    documents = tuple(
        DocumentInfo(d.id, d.kind, content_type, size, d.created_at)
        for d, content_type, size in (
            await session.execute(
                select(ProviderDocument, StoredFile.content_type, StoredFile.size)
                .join(StoredFile, StoredFile.id == ProviderDocument.stored_file_id)
                .where(ProviderDocument.provider_kind == kind.value, ProviderDocument.provider_id == row.id)
                .order_by(ProviderDocument.created_at)
            )
        ).all()
    )
    if isinstance(row, Doctor):
        name = row.full_name
        details: dict[str, object] = {
            "qualification": row.qualification,
            "council": row.council,
            "registration_number": row.registration_number,
            "specialties": sorted(s.name for s in row.specialties),
            "languages": list(row.languages),
            "fee_minor": row.fee_minor,
            "currency": row.currency,
            "bio": row.bio,
        }
    elif isinstance(row, Pharmacy):
        name = row.name
        details = {"city": row.city, "licence_number": row.licence_number}
    else:
        name = row.name
        details = {
            "city": row.city,
            "accreditation": row.accreditation,
            "home_collection": row.home_collection,
        }
    decider = await session.get(User, row.verified_by) if row.verified_by else None
    submissions = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "application_submit",
            AuditEntry.resource_type == kind.value,
            AuditEntry.resource_id == row.id,
        )
    )
    latest = await session.scalar(
        select(func.max(AuditEntry.at)).where(
            AuditEntry.action == "application_submit",
            AuditEntry.resource_type == kind.value,
            AuditEntry.resource_id == row.id,
        )
    )
    return Application(
        kind=kind,
        id=row.id,
        user_id=row.user_id,
        name=name,
        status=row.status,
        submitted_at=latest or row.created_at,
        submission=submissions or 1,
        details=details,
        documents=documents,
        decided_by=row.verified_by,
        decided_by_name=(decider.display_name if decider else None),
        decided_at=row.verified_at,
        rejection_reason=row.rejection_reason,
    )


# --- notifying --------------------------------------------------------------------------------


def review_key_prefix(kind: ProviderKind, application_id: str) -> str:
    return f"application:{kind.value}:{application_id}:review:"


async def notify_admins(session: AsyncSession, cipher: FieldCipher, application: Application) -> int:
    """One message per active admin per submission, with Approve / Reject / View buttons."""
    admins = (
        await session.scalars(select(User.id).where(User.role == Role.ADMIN, User.active).order_by(User.id))
    ).all()
    params = _review_params(application)
    for admin_id in admins:
        await outbox.enqueue(
            session,
            cipher,
            key=f"{review_key_prefix(application.kind, application.id)}{application.submission}:{admin_id}",
            user_id=admin_id,
            template=f"application_new_{application.kind.value}",
            params=params,
            kind=STAFF_KIND,
            actions=(
                outbox.ActionButton("approve", "btn_application_approve"),
                outbox.ActionButton("reject", "btn_application_reject"),
                outbox.ActionButton("view", "btn_application_view"),
            ),
            action=REVIEW_ACTION,
            action_ref=application.ref,
        )
    return len(admins)


def _review_params(application: Application) -> dict[str, object]:
    d = application.details
    params: dict[str, object] = {"name": application.name, "submission": application.submission}
    params["documents"] = len(application.documents)
    if application.kind is ProviderKind.DOCTOR:
        params |= {
            "qualification": d["qualification"],
            "council": d["council"],
            "registration_number": d["registration_number"],
            "specialties": ", ".join(d["specialties"]),
            "languages": ", ".join(d["languages"]),
            "fee_money": f"{d['fee_minor']} {d['currency']}",
        }
    elif application.kind is ProviderKind.PHARMACY:
        params |= {"city": d["city"], "licence_number": d["licence_number"]}
    else:
        params |= {"city": d["city"], "accreditation": d["accreditation"]}
    return params


async def _notify_applicant(session: AsyncSession, cipher: FieldCipher, application: Application) -> None:
    base = f"application:{application.kind.value}:{application.id}:decision:{application.submission}"
    if application.status is VerificationStatus.VERIFIED:
        await outbox.enqueue(
            session,
            cipher,
            key=base,
            user_id=application.user_id,
            template="application_approved",
            params={"name": application.name},
            kind="status",
        )
        return
    await outbox.enqueue(
        session,
        cipher,
        key=base,
        user_id=application.user_id,
        template="application_rejected",
        params={"name": application.name, "reason": application.rejection_reason or ""},
        kind="status",
        actions=(outbox.ActionButton("resubmit", "btn_application_resubmit"),),
        action=RESUBMIT_ACTION,
        action_ref=application.ref,
    )


# --- deciding ---------------------------------------------------------------------------------


async def approve(
    session: AsyncSession,
    cipher: FieldCipher,
    actor: Actor,
    kind: ProviderKind,
    application_id: str,
    *,
    now: datetime,
    channel: str | None = None,
) -> Application:
    return await _decide(session, cipher, actor, kind, application_id, None, now, channel)


async def reject(
    session: AsyncSession,
    cipher: FieldCipher,
    actor: Actor,
    kind: ProviderKind,
    application_id: str,
    reason: str,
    *,
    now: datetime,
    channel: str | None = None,
) -> Application:
    """Raises ApplicationError("invalid_reason") for an empty or over-long reason."""
    cleaned = " ".join((reason or "").split())
    if not cleaned or len(cleaned) > MAX_REASON_CHARS:
        raise ApplicationError("invalid_reason")
    return await _decide(session, cipher, actor, kind, application_id, cleaned, now, channel)


async def _decide(session, cipher, actor, kind, application_id, reason, now, channel) -> Application:
    # Deciding is an admin's job (access rule "provider_application"); a refusal is audited.
    if not can(actor, Action.UPDATE, Resource("provider_application")):
        await audit.record(
            session,
            actor=actor,
            action="application_decide",
            resource_type=kind.value,
            resource_id=(application_id or "")[:32],
            outcome="denied",
            channel=channel,
        )
        raise AccessDenied(actor, Action.UPDATE, Resource(kind.value))
    model = MODELS[kind]
    status = VerificationStatus.REJECTED if reason else VerificationStatus.VERIFIED
    result = await session.execute(
        update(model)
        .where(model.id == (application_id or "")[:32], model.status == VerificationStatus.PENDING)
        .values(status=status, verified_by=actor.user_id, verified_at=now, rejection_reason=reason)
        .execution_options(synchronize_session=False)
    )
    application = await get_application(session, kind, application_id)  # NotFound for an unknown id
    if result.rowcount != 1:
        raise AlreadyDecided(application)
    await audit.record(
        session,
        actor=actor,
        action="application_approve" if reason is None else "application_reject",
        resource_type=kind.value,
        resource_id=application.id,
        channel=channel,
    )
    # The other admins' messages that have not gone yet are withdrawn; those already delivered
    # answer "already decided by …" when pressed.
    await outbox.cancel_prefix(session, review_key_prefix(kind, application.id))
    await _notify_applicant(session, cipher, application)
    return application


# --- documents ----------------------------------------------------------------------------------

# A download link (backend/files) names what it opens in its `kind` column (32 characters): the
# document id as 22 base64url characters after this prefix.
_GRANT_PREFIX = "pdoc:"


def grant_kind(document_id: str) -> str:
    raw = uuid.UUID(hex=document_id).bytes
    return _GRANT_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def document_of_grant(kind: str) -> str | None:
    if not kind.startswith(_GRANT_PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(kind.removeprefix(_GRANT_PREFIX) + "==")
        return uuid.UUID(bytes=raw).hex
    except ValueError:
        return None


async def _authorise_document(session, actor, document_id, channel, purpose) -> ProviderDocument:
    document = await session.get(ProviderDocument, (document_id or "")[:32])
    allowed = can(actor, Action.READ, Resource(PROVIDER_DOCUMENT))
    await audit.record(
        session,
        actor=actor,
        action=Action.READ.value,
        resource_type=PROVIDER_DOCUMENT,
        resource_id=(document_id or "")[:32],
        outcome="success" if allowed and document else ("denied" if not allowed else "not_found"),
        purpose=purpose,
        channel=channel,
    )
    if not allowed:
        raise AccessDenied(actor, Action.READ, Resource(PROVIDER_DOCUMENT))
    if document is None:
        raise ApplicationNotFound(document_id)
    return document


async def document_link(
    session: AsyncSession,
    actor: Actor,
    document_id: str,
    *,
    now: datetime,
    channel: str,
    admin_token_id: str | None = None,
) -> str:
    """A short-lived download token for one application document, for an admin only (audited);
    made in a chat on `channel`, or for the admin API token `admin_token_id` (it dies with it)."""
    document = await _authorise_document(session, actor, document_id, channel, "link")
    return await files.grant(
        session,
        user_id=actor.user_id,
        kind=grant_kind(document.id),
        now=now,
        channel=channel,
        admin_token_id=admin_token_id,
    )


@dataclass(frozen=True)
class DocumentFile:
    filename: str
    content_type: str
    data: bytes


async def read_document(
    session: AsyncSession, cipher: FieldCipher, actor: Actor, document_id: str, *, channel: str | None = None
) -> DocumentFile:
    """The bytes of one application document: authorised and audited like any health data."""
    document = await _authorise_document(session, actor, document_id, channel, "download")
    stored = await session.get(StoredFile, document.stored_file_id)
    filename = cipher.decrypt("stored_files", "filename", stored.id, stored.filename_enc)
    data = cipher.decrypt_bytes("stored_files", "content", stored.id, stored.content_enc)
    return DocumentFile(filename=filename, content_type=stored.content_type, data=data)
