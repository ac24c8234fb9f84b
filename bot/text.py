"""Cutting long texts for platforms with a length limit, at line ends where possible."""

from __future__ import annotations


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at line ends where possible."""
    if utf16_len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while utf16_len(line) > limit:  # a single line longer than the limit: cut it hard
            cut = _fit(line, limit - utf16_len(current)) if current else _fit(line, limit)
            if not cut:
                pieces.append(current)
                current = ""
                continue
            pieces.append(current + line[:cut])
            current, line = "", line[cut:]
        if utf16_len(current + line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current:
        pieces.append(current)
    return [p.rstrip("\n") or p for p in pieces if p.strip()]


def _fit(text: str, units: int) -> int:
    """How many characters of `text` fit in `units` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return index
    return len(text)
