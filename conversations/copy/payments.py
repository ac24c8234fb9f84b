"""The words of payments, refunds and earnings, per language."""

from __future__ import annotations

EN: dict[str, str] = {}
HI: dict[str, str] = {}
