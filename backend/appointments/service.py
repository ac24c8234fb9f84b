"""Appointments: hold, pay, request, accept or reject, remind, cancel, reschedule."""

from __future__ import annotations
