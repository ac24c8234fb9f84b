"""Templates for applications to join and their review: EN, HI and the WhatsApp template variables, in order."""

from __future__ import annotations

EN: dict[str, str] = {}
HI: dict[str, str] = {}
VARIABLES: dict[str, tuple[str, ...]] = {}
