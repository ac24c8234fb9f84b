"""Notification templates, one module per area."""

from notifications.template_sets import booking, payments, providers, security

__all__ = ["booking", "payments", "providers", "security"]
