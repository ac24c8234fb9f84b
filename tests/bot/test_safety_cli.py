"""`telecare safety` as an operator uses it, on a throwaway SQLite database: the report counts flags
per category per day (now and history apart) and the misses of those days, on a pinned day; a
missed message goes in and comes out as a row of the evaluation set; bad input is refused with
exit code 2 and nothing is written."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.crypto import FieldCipher, load_key_ring
from backend.db import create_engine, create_sessionmaker
from backend.models import AuditEntry, RedFlagMiss
from backend.safety import flags, misses

TELECARE = str(Path(sys.executable).parent / "telecare")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TELECARE_")}
    environment.update(
        TELECARE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        TELECARE_KEY_FILE=str(tmp_path / "keys.json"),
        TELECARE_AUDIT_HEAD_FILE=str(tmp_path / "audit-heads.log"),
        TELECARE_ENV="development",
        TELECARE_DEFAULT_TIMEZONE="Asia/Kolkata",
    )
    assert run(environment, "keys", "init").returncode == 0
    assert run(environment, "migrate").returncode == 0
    return environment


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TELECARE, *args], env=env, capture_output=True, text=True, timeout=120, input=stdin
    )


def in_db(env: dict[str, str], work):
    """Run `await work(session, cipher)` in one transaction on the CLI's database."""

    async def main():
        ring = load_key_ring(Path(env["TELECARE_KEY_FILE"]), None)
        engine = create_engine(env["TELECARE_DATABASE_URL"])
        try:
            async with create_sessionmaker(engine, ring)() as session, session.begin():
                return await work(session, FieldCipher(ring))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


FLAGS = [  # (category, history, when in UTC)
    ("cardiac", False, "2031-06-01T04:00"),
    ("cardiac", False, "2031-06-01T09:00"),
    ("cardiac", True, "2031-06-01T10:00"),
    ("breathing", False, "2031-06-01T19:00"),  # 2 Jun, 00:30 in Kolkata
    ("mental_health", False, "2031-05-27T12:00"),
    ("stroke", False, "2031-05-25T12:00"),  # 8 days before the last day: outside a week
]


def with_flags_and_a_miss(env) -> None:
    async def work(session, cipher):
        for category, history, at in FLAGS:
            await flags.record(
                session,
                cipher,
                actor=None,
                user_id=None,
                conversation_id=None,
                channel="telegram",
                category=category,
                history=history,
                at=utc(at),
            )
        await misses.record(
            session,
            cipher,
            None,
            text="she drank phenyl",
            category="poisoning",
            language="en",
            at=utc("2031-06-02T05:00"),
        )

    in_db(env, work)


def test_the_report_counts_flags_per_category_per_day_now_and_history_apart(env):
    with_flags_and_a_miss(env)
    result = run(env, "safety", "report", "--until", "2031-06-02")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Red flags, 2031-05-27 to 2031-06-02 (Asia/Kolkata)")
    rows = [line.split() for line in lines[2:] if line[:4] in ("2031", "all ")]
    assert rows == [
        ["2031-05-27", "mental_health", "1", "0"],
        ["2031-06-01", "cardiac", "2", "1"],
        ["2031-06-02", "breathing", "1", "0"],
        ["all", "days", "cardiac", "2", "1"],
        ["all", "days", "breathing", "1", "0"],
        ["all", "days", "mental_health", "1", "0"],
        ["2031-06-02", "poisoning", "1"],  # the miss
    ]
    assert "Messages operators marked as missed: 1" in lines
    assert "stroke" not in result.stdout, "a day before the week is not counted"


def test_the_report_over_one_day_and_a_day_without_flags(env):
    with_flags_and_a_miss(env)
    one_day = run(env, "safety", "report", "--days", "1", "--until", "2031-06-01")
    assert one_day.returncode == 0
    assert [line.split() for line in one_day.stdout.splitlines() if line.startswith("2031")] == [
        ["2031-06-01", "cardiac", "2", "1"]
    ]
    quiet = run(env, "safety", "report", "--until", "2031-01-07")
    assert quiet.returncode == 0
    assert "No red flags." in quiet.stdout and "Messages operators marked as missed: 0" in quiet.stdout


def test_a_missed_message_goes_in_and_comes_out_as_an_evaluation_set_row(env, tmp_path):
    said = [
        ("she drank phenyl, now drowsy", "poisoning", ["--language", "en"]),
        ('he said "nobody would miss me"', "mental_health", ["--language", "en"]),
        ("khoon ruk nahi raha", "bleeding_trauma", ["--language", "hinglish"]),
        ("सांस नहीं आ रही", "breathing", []),  # Devanagari: hi unless told otherwise
    ]
    for text, category, language in said:
        result = run(env, "safety", "missed", text, "--category", category, *language)
        assert result.returncode == 0 and f"missed {category}" in result.stdout, result.stderr
    exported = run(env, "safety", "misses", "--header")
    assert exported.returncode == 0
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    header = (ROOT / "eval" / "redflags" / "dev.csv").read_text(encoding="utf-8").splitlines()[0]
    assert exported.stdout.splitlines()[0] == header
    assert [(r["text"], r["category"], r["language"], r["kind"], r["source"]) for r in rows] == [
        ("she drank phenyl, now drowsy", "poisoning", "en", "emergency", "operator"),
        ('he said "nobody would miss me"', "mental_health", "en", "emergency", "operator"),
        ("khoon ruk nahi raha", "bleeding_trauma", "hinglish", "emergency", "operator"),
        ("सांस नहीं आ रही", "breathing", "hi", "emergency", "operator"),
    ]
    assert run(env, "safety", "misses").stdout.splitlines() == exported.stdout.splitlines()[1:]
    database = b"".join(path.read_bytes() for path in tmp_path.glob("cli.db*"))
    assert b"phenyl" not in database and "सांस".encode() not in database, "the words are encrypted"
    assert b"poisoning" in database, "a miss's category names nobody: kept in clear for the report"

    async def audited(session, cipher):
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.resource_type).order_by(AuditEntry.seq)
        )
        return [tuple(row) for row in rows]

    assert in_db(env, audited) == [("create", "red_flag_miss")] * 4 + [("read", "red_flag_misses")] * 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["missed", "", "--category", "cardiac"], "empty"),
        (["missed", "   ", "--category", "cardiac"], "empty"),
        (["missed", "chest pain", "--category", "heart"], "Unknown category 'heart'"),
        (["missed", "chest pain", "--category", "cardiac", "--language", "fr"], "Unknown language 'fr'"),
        (["missed", "x" * 4001, "--category", "cardiac"], "longer than 4000"),
        (["missed", "chest pain"], "--category"),
        (["report", "--days", "0"], "--days"),
        (["report", "--until", "2031-13-01"], "YYYY-MM-DD"),
    ],
)
def test_bad_input_is_refused_clearly_with_exit_code_2_and_nothing_written(env, args, says):
    result = run(env, "safety", *args)
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr, (
        result.stderr
    )

    async def count(session, cipher):
        return await session.scalar(select(func.count()).select_from(RedFlagMiss))

    assert in_db(env, count) == 0


def test_the_categories_are_the_matchers() -> None:
    from conversations.emergency import CATEGORIES

    assert misses.CATEGORIES == CATEGORIES


def test_a_missed_message_can_come_from_standard_input_not_the_command_line(env):
    # A patient's words on the command line would stay in the shell's history and the process list.
    result = run(
        env, "safety", "missed", "-", "--category", "mental_health", stdin="sab khatam karna hai aaj\n"
    )
    assert result.returncode == 0, result.stderr
    exported = run(env, "safety", "misses")
    assert "sab khatam karna hai aaj,mental_health,en,emergency,operator" in exported.stdout.splitlines()
