"""The audit chain's head, published outside the database.

A keyed chain shows any row changed inside it, but not its newest entries cut off: what remains
is still a valid chain. So the head (seq, link, key id) is written now and then to an append-only
file (one JSON line per publication, mode 0600) and to the log (`audit_head`), both beyond the
reach of someone who can only write the database. `telecare audit verify` checks that the chain
still holds every published head.

A head is published only if the entries since the last published one extend it under their keys,
so a chain rewritten in between is reported instead of blessed."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.models import AuditEntry

log = structlog.get_logger(__name__)

_TAIL_BYTES = 4096  # enough for the last line; a line is about 150 bytes


class HeadFileError(Exception):
    """The head file has a line that is not a published head."""


@dataclass(frozen=True)
class Head:
    at: datetime  # when it was published
    seq: int
    link: str
    key_id: str

    def to_line(self) -> str:
        fields = {"at": self.at.isoformat(), "seq": self.seq, "link": self.link, "key_id": self.key_id}
        return json.dumps(fields, separators=(",", ":")) + "\n"

    @classmethod
    def from_line(cls, line: str) -> Head:
        data = json.loads(line)
        head = cls(datetime.fromisoformat(data["at"]), data["seq"], data["link"], data["key_id"])
        if not (
            isinstance(head.seq, int)
            and head.seq >= 1
            and isinstance(head.link, str)
            and len(head.link) == 64
        ):
            raise ValueError("seq or link is malformed")
        return head

    def anchor(self) -> audit.Anchor:
        return audit.Anchor(
            self.seq, self.link, f"the head published at {self.at.isoformat(timespec='seconds')}"
        )


def read_heads(path: Path) -> list[Head]:
    """Every published head, oldest first; none if the file does not exist."""
    if not path.exists():
        return []
    heads = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                heads.append(Head.from_line(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise HeadFileError(f"{path} line {number} is not a published head ({exc})") from exc
    return heads


def last_published(path: Path) -> Head | None:
    """The newest head in the file, read from its end (the file only grows)."""
    if not path.exists():
        return None
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - _TAIL_BYTES))
        lines = handle.read().splitlines()
    if not lines:
        return None
    try:
        return Head.from_line(lines[-1].decode("utf-8"))
    except (ValueError, KeyError, TypeError) as exc:
        raise HeadFileError(f"the last line of {path} is not a published head ({exc})") from exc


def append(path: Path, head: Head) -> None:
    """Append one line. The file is opened for appending only and kept 0600; earlier lines are
    never rewritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a file made by hand with a wider mode is narrowed
        os.write(fd, head.to_line().encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


async def publish(session: AsyncSession, path: Path, *, now: datetime) -> Head | None:
    """Publish the chain's head if it moved since the last publication; returns it, or None
    when nothing is new. Only the entries since the last published head are checked (with the
    key, against that head), so this stays cheap. A chain that no longer extends the last
    published head is not published: HeadFileError says why (and `audit_head_refused` is
    logged, for an operator to see)."""
    since = last_published(path)
    report = await audit.verify_chain(session, since=since.anchor() if since else None)
    if not report.ok:
        reason = f"audit entry {report.first_bad_seq}: {report.reason}"
        log.error("audit_head_refused", reason=reason)
        raise HeadFileError(f"the head was not published: {reason}")
    if report.entries == 0:
        return None
    key_id = await session.scalar(select(AuditEntry.key_id).where(AuditEntry.seq == report.head_seq))
    head = Head(now, report.head_seq, report.head_hash, key_id)
    append(path, head)
    # Field names the log redaction leaves alone (see backend/logs.py).
    log.info(
        "audit_head", seq=head.seq, audit_link=head.link, audit_key_id=head.key_id, at=head.at.isoformat()
    )
    return head
