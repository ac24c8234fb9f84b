"""Settings that guard a deployment: production refuses what is only for trying things out, and
Stripe is configured by the variables Stripe's own tools use."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.settings import PaymentGatewayName, Settings

PRODUCTION = {
    "_env_file": None,
    "env": "production",
    "public_base_url": "https://clinic.example",
    "otp_delivery": "smtp",
    "smtp_url": "smtp://127.0.0.1:1",
}


def test_production_refuses_the_sandbox_gateway():
    with pytest.raises(ValidationError, match="sandbox takes no real money"):
        Settings(**PRODUCTION)


def test_production_with_stripe_is_accepted():
    settings = Settings(
        **PRODUCTION, payment_gateway="stripe", stripe_api_key="sk_live_x", stripe_webhook_secret="whsec_x"
    )
    assert settings.payment_gateway is PaymentGatewayName.STRIPE


def test_stripe_needs_its_key_and_webhook_secret():
    with pytest.raises(ValidationError, match="needs STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET"):
        Settings(_env_file=None, payment_gateway="stripe", stripe_api_key="sk_test_x")


def test_stripe_reads_the_unprefixed_variables(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_123")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_123")
    monkeypatch.setenv("STRIPE_API_BASE_URL", "http://127.0.0.1:12111")
    settings = Settings(_env_file=None, payment_gateway="stripe")
    assert (settings.stripe_api_key, settings.stripe_webhook_secret, settings.stripe_api_base_url) == (
        "sk_test_123",
        "whsec_123",
        "http://127.0.0.1:12111",
    )
