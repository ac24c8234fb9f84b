"""Payments: the gateways (built-in sandbox, Stripe), the service the appointments use, and the
double-entry ledger. `build_gateways` is what the app and the worker call once at start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend.payments.gateway import Gateways, PaymentGateway
from backend.payments.sandbox import SandboxGateway, webhook_secret

if TYPE_CHECKING:
    from backend.crypto import FieldCipher
    from backend.settings import Settings


def build_gateways(settings: Settings, cipher: FieldCipher) -> Gateways:
    """The sandbox is always there (its links keep working when the default changes); Stripe is
    added when it has a key and a webhook secret. The default is `settings.payment_gateway`."""
    sandbox = SandboxGateway(settings.public_base_url, webhook_secret(cipher.ring))
    gateways: dict[str, PaymentGateway] = {sandbox.name: sandbox}
    if settings.stripe_api_key and settings.stripe_webhook_secret:
        from backend.payments.stripe_gateway import StripeGateway  # the stripe library loads only when used

        stripe = StripeGateway(
            api_key=settings.stripe_api_key,
            webhook_secret=settings.stripe_webhook_secret,
            public_base_url=settings.public_base_url,
            api_base_url=settings.stripe_api_base_url,
        )
        gateways[stripe.name] = stripe
    default = gateways.get(str(settings.payment_gateway), sandbox)
    return Gateways(default=default, others={name: g for name, g in gateways.items() if g is not default})


__all__ = ["Gateways", "build_gateways"]
