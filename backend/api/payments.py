"""Payment webhooks and the sandbox gateway's checkout page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["payments"])
