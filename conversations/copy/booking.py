"""The words of booking, appointments and urgent consults, per language."""

from __future__ import annotations

EN: dict[str, str] = {}
HI: dict[str, str] = {}
