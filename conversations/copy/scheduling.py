"""The words of availability and doctor search, per language."""

from __future__ import annotations

EN: dict[str, str] = {}
HI: dict[str, str] = {}
