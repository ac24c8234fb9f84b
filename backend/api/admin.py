"""The admin REST API under /api/admin/ (bearer tokens): applications to join as a doctor,
pharmacy or lab — list, read (with short-lived document links), approve, reject.

The same service as the chat's review (backend/providers/service.py): the first decision wins,
a later one is a 409 naming who decided; every call and every decision is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backend.access import Actor
from backend.api.admin_auth import require_admin
from backend.models import VerificationStatus, utcnow
from backend.providers import service as providers
from backend.providers.service import ProviderKind

router = APIRouter(prefix="/api/admin", tags=["admin"])
Admin = Annotated[Actor, Depends(require_admin)]


class DocumentOut(BaseModel):
    id: str
    kind: str = Field(description="licence, id_proof or accreditation")
    content_type: str
    size: int = Field(description="bytes")
    download_url: str | None = Field(
        None,
        description="A link for this admin, valid for a few minutes while the token that asked for it "
        "is live; fetch it with the same `Authorization: Bearer` token (only when reading one application)",
    )


class ApplicationOut(BaseModel):
    kind: ProviderKind
    id: str
    user_id: str
    name: str
    status: VerificationStatus
    submitted_at: datetime
    submission: int = Field(description="1 for the first submission, 2 after one resubmission, …")
    details: dict[str, object] = Field(
        description="Qualification, council, fee … (doctor); city, licence (others)"
    )
    documents: list[DocumentOut]
    decided_by: str | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    rejection_reason: str | None = None


class ApplicationPage(BaseModel):
    items: list[ApplicationOut]
    total: int
    offset: int
    limit: int


class RejectIn(BaseModel):
    reason: str = Field(
        min_length=1,
        max_length=providers.MAX_REASON_CHARS,
        description="Shown to the applicant: what to correct before resubmitting",
    )


class ErrorOut(BaseModel):
    detail: str


class ConflictOut(BaseModel):
    detail: str
    status: VerificationStatus
    decided_by: str | None
    decided_by_name: str | None
    decided_at: datetime | None


def _out(application: providers.Application, links: dict[str, str] | None = None) -> ApplicationOut:
    return ApplicationOut(
        kind=application.kind,
        id=application.id,
        user_id=application.user_id,
        name=application.name,
        status=application.status,
        submitted_at=application.submitted_at,
        submission=application.submission,
        details=application.details,
        documents=[
            DocumentOut(
                id=d.id,
                kind=d.kind,
                content_type=d.content_type,
                size=d.size,
                download_url=(links or {}).get(d.id),
            )
            for d in application.documents
        ],
        decided_by=application.decided_by,
        decided_by_name=application.decided_by_name,
        decided_at=application.decided_at,
        rejection_reason=application.rejection_reason,
    )


def _not_found() -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such application of that kind.")


def _conflict(decided: providers.AlreadyDecided) -> JSONResponse:
    application = decided.application
    body = ConflictOut(
        detail=f"Already {application.status.value} by {application.decided_by_name or application.decided_by}.",
        status=application.status,
        decided_by=application.decided_by,
        decided_by_name=application.decided_by_name,
        decided_at=application.decided_at,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_409_CONFLICT)


def _wake(request: Request) -> None:
    """Send the messages a decision wrote now, not at the dispatcher's next poll."""
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()


_ERRORS = {401: {"model": ErrorOut, "description": "Missing, unknown, revoked or expired token"}}
_ONE = {**_ERRORS, 404: {"model": ErrorOut, "description": "No application of that kind with that id"}}
_DECIDE = {**_ONE, 409: {"model": ConflictOut, "description": "Already decided (by whom, when)"}}


@router.get("/applications", response_model=ApplicationPage, responses=_ERRORS)
async def list_applications(
    request: Request,
    admin: Admin,
    kind: ProviderKind | None = None,
    status_: Annotated[VerificationStatus | None, Query(alias="status")] = VerificationStatus.PENDING,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ApplicationPage:
    """Applications, oldest first; pending ones unless `status` says otherwise."""
    async with request.app.state.sessions() as session, session.begin():
        page = await providers.list_applications(
            session, kind=kind, status=status_, offset=offset, limit=limit
        )
    return ApplicationPage(items=[_out(a) for a in page.items], total=page.total, offset=offset, limit=limit)


@router.get("/applications/{kind}/{application_id}", response_model=ApplicationOut, responses=_ONE)
async def get_application(
    request: Request, admin: Admin, kind: ProviderKind, application_id: str
) -> ApplicationOut:
    """One application, with a short-lived download link per document (each link audited)."""
    base = request.app.state.settings.public_base_url.rstrip("/")
    async with request.app.state.sessions() as session, session.begin():
        try:
            application = await providers.get_application(session, kind, application_id)
        except providers.ApplicationNotFound:
            raise _not_found() from None
        now = utcnow()
        # Each link is granted to the calling token: revoked or expired, its links stop too.
        token_id = request.state.admin_token_id
        links = {}
        for d in application.documents:
            token = await providers.document_link(
                session, admin, d.id, now=now, channel="api", admin_token_id=token_id
            )
            links[d.id] = f"{base}/files/{token}"
    return _out(application, links)


@router.post(
    "/applications/{kind}/{application_id}/approve",
    response_model=ApplicationOut,
    responses=_DECIDE,
)
async def approve(request: Request, admin: Admin, kind: ProviderKind, application_id: str):
    """Verify the application; the applicant is told. The first decision wins."""
    try:
        async with request.app.state.sessions() as session, session.begin():
            application = await providers.approve(
                session, request.app.state.cipher, admin, kind, application_id, now=utcnow(), channel="api"
            )
    except providers.ApplicationNotFound:
        raise _not_found() from None
    except providers.AlreadyDecided as decided:
        return _conflict(decided)
    _wake(request)
    return _out(application)


@router.post(
    "/applications/{kind}/{application_id}/reject",
    response_model=ApplicationOut,
    responses=_DECIDE,
)
async def reject(request: Request, admin: Admin, kind: ProviderKind, application_id: str, body: RejectIn):
    """Reject with a reason the applicant reads; they can correct and resubmit."""
    try:
        async with request.app.state.sessions() as session, session.begin():
            application = await providers.reject(
                session,
                request.app.state.cipher,
                admin,
                kind,
                application_id,
                body.reason,
                now=utcnow(),
                channel="api",
            )
    except providers.ApplicationNotFound:
        raise _not_found() from None
    except providers.AlreadyDecided as decided:
        return _conflict(decided)
    except providers.ApplicationError:
        # Only whitespace: pydantic's length check passed, ours did not.
        raise HTTPException(status_code=422, detail="A reason is required.") from None
    _wake(request)
    return _out(application)
