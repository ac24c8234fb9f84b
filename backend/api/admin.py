"""The admin REST API under /api/admin/ (bearer tokens)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/admin", tags=["admin"])
