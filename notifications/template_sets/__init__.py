"""Notification templates, one module per area."""

from notifications.template_sets import booking, payments, providers

__all__ = ["booking", "payments", "providers"]
