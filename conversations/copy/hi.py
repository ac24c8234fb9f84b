"""Hindi catalogue (being written)."""

MESSAGES: dict[str, str] = {}
