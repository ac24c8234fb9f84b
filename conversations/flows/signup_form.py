"""What a signup has on its form so far, read by the signup steps and the consent step
(conversations/flows/consent.py): who is joining, and whether their contact is proven."""

from __future__ import annotations

from backend.models import Role
from conversations.context import Context

PROVIDER_ROLES = {"doctor": Role.DOCTOR, "pharmacy": Role.PHARMACY, "lab": Role.LAB}


def joining_as_provider(ctx: Context) -> bool:
    return ctx.form.get("mode") == "provider" and ctx.form.get("provider_kind") in PROVIDER_ROLES


def contact_key(kind: str, value: str) -> str:
    return f"{kind}:{value}"


def contact_is_verified(ctx: Context) -> bool:
    """True only when the contact on the form is exactly the one this chat proved by OTP."""
    form = ctx.form
    proven = form.get("verified_contact")
    return bool(proven) and proven == contact_key(form.get("contact_kind", ""), form.get("contact", ""))
