"""Button labels that must fit a size: cut where a reader loses the least."""

from __future__ import annotations

# A list label's length: what fits a Telegram button on a phone and a WhatsApp list row's
# description. The time and the status are always shown whole; the name gives way.
LABEL_CHARS = 60


def list_label(starts: str, who: str, status: str, limit: int = LABEL_CHARS) -> str:
    """ "Mon, 14 Dec, 10:30 AM · Dr Meera… · waiting for the doctor": the name is cut with an
    ellipsis — at a word when that keeps at least half of the room — so the status never loses
    its last letters."""
    room = limit - len(f"{starts} ·  · {status}")
    if len(who) > room:
        cut = who[: max(room - 1, 0)]
        at_word = cut.rsplit(" ", 1)[0]
        who = (at_word if len(at_word) * 2 >= room else cut).rstrip(" ,.·") + "…"
    return f"{starts} · {who} · {status}"
