"""Who may call the admin REST API: a bearer token issued with `telecare admin-token create`.

`require_admin` is the one dependency every `/api/admin/` route takes. It uses FastAPI's
HTTPBearer scheme so OpenAPI documents the security requirement, answers 401 (with
`WWW-Authenticate: Bearer`) for a missing, unknown, revoked or expired token, and audits every
use. Only "expired" is told apart in the answer: the owner of a token that simply ran out needs to
know, while telling unknown from revoked would say which tokens exist."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend import audit
from backend.access import Actor
from backend.models import utcnow
from backend.providers import admin_tokens

log = structlog.get_logger(__name__)

# auto_error=False: we answer 401 ourselves, the same way for every kind of bad token.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="AdminBearer",
    description="An admin API token from `telecare admin-token create --email … --name …`.",
)


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=reason,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Actor:
    """The admin the request's bearer token acts as; 401 otherwise. One audit entry per use.

    The check runs in its own short transaction, closed before the route opens its own (SQLite
    has a single connection, so the two must never overlap)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise _unauthorised("A bearer token is required.")
    token = credentials.credentials
    # The operation's name ("GET list_applications"): paths carry ids and would not fit the column.
    endpoint = getattr(request.scope.get("endpoint"), "__name__", "unknown")
    purpose = f"{request.method} {endpoint}"[:48]
    async with request.app.state.sessions() as session, session.begin():
        checked = await admin_tokens.check(session, token, now=utcnow())
        actor, token_id = checked.actor, checked.token_id
        if actor is not None:
            await audit.record(
                session,
                actor=actor,
                action="admin_api",
                resource_type="admin_token",
                resource_id=token_id,
                purpose=purpose,
                channel="api",
            )
        elif token_id is not None:
            # A known token that no longer works (expired, revoked, or its user is no longer an
            # admin): worth an audit entry. Unknown tokens are only logged, so guessing cannot
            # fill the log.
            await audit.record(
                session,
                actor=None,
                action="admin_api",
                resource_type="admin_token",
                resource_id=token_id,
                outcome="denied",
                purpose=purpose,
                channel="api",
            )
    if actor is None:
        log.warning("admin_api_refused", method=request.method, path=request.url.path)
        if checked.refusal is admin_tokens.Refusal.EXPIRED:
            raise _unauthorised("The token has expired. Ask for a new one (telecare admin-token create).")
        raise _unauthorised("The token is unknown or revoked.")
    # The routes grant download links to this token (they die with it).
    request.state.admin_token_id = token_id
    return actor
