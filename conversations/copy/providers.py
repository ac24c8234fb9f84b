"""The words of doctor, pharmacy and lab applications and their review, per language."""

from __future__ import annotations

EN: dict[str, str] = {}
HI: dict[str, str] = {}
