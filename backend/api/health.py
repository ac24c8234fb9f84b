"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from backend.migrate import head_revision

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict:
    """The process is up and serving requests."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the code's migration head."""
    try:
        async with request.app.state.sessions() as session:
            version = await session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:  # any database failure means "not ready", never a 500
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    if version != head_revision():
        return JSONResponse({"status": "unavailable", "reason": "migrations pending"}, status_code=503)
    return {"status": "ready"}
