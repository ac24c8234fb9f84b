"""`telecare safety`: what the emergency red-flag matcher raised (`report`), and the messages it
missed, recorded by an operator (`missed`) and exported for the evaluation set (`misses`)."""

from __future__ import annotations

import csv
import sys
from datetime import date, datetime

import typer

from backend.settings import get_settings
from bot.commands.common import fail, in_database, load_cipher
from conversations.textnorm import in_devanagari

safety_app = typer.Typer(
    help="Emergency red flags: the report, and the misses operators record.", no_args_is_help=True
)

BAD_INPUT = 2  # the exit code of a command given bad input


@safety_app.command("report")
def report(
    days: int = typer.Option(7, min=1, max=366, help="How many days, up to and including the last one."),
    until: str = typer.Option(None, help="The last day, YYYY-MM-DD (default: today)."),
) -> None:
    """Red flags per category per day (happening now and history apart), and the messages operators
    marked as missed on those days. Days are calendar days in TELECARE_DEFAULT_TIMEZONE."""
    from backend.access import SYSTEM
    from backend.safety import report as reports
    from backend.timefmt import zone

    timezone = get_settings().default_timezone
    last_day = _day(until) if until else datetime.now(zone(timezone)).date()
    cipher = load_cipher()

    async def run(sessions):
        async with sessions() as session, session.begin():
            return await reports.daily(
                session, cipher, SYSTEM, last_day=last_day, days=days, timezone=timezone, channel="cli"
            )

    for line in _report_lines(in_database(run)):
        typer.echo(line)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--until must be a day as YYYY-MM-DD, not {text!r}.", code=BAD_INPUT)


def _report_lines(report) -> list[str]:
    from backend.safety.misses import CATEGORIES

    lines = [
        f"Red flags, {report.first_day} to {report.last_day} ({report.timezone}): "
        "now = happening now (the emergency guidance was shown); history = only a past event mentioned."
    ]
    rows = [
        (day, category, report.flags[(day, category, False)], report.flags[(day, category, True)])
        for day in report.days()
        for category in CATEGORIES
    ]
    rows = [row for row in rows if row[2] or row[3]]
    if rows:
        lines.append(f"{'day':<12}{'category':<17}{'now':>5}{'history':>9}")
        lines += [f"{day!s:<12}{category:<17}{now:>5}{history:>9}" for day, category, now, history in rows]
        for category in CATEGORIES:
            now = sum(row[2] for row in rows if row[1] == category)
            history = sum(row[3] for row in rows if row[1] == category)
            if now or history:
                lines.append(f"{'all days':<12}{category:<17}{now:>5}{history:>9}")
    else:
        lines.append("No red flags.")
    missed = sorted(report.misses.items())
    lines.append(f"Messages operators marked as missed: {sum(report.misses.values())}")
    lines += [f"{day!s:<12}{category:<17}{count:>5}" for (day, category), count in missed]
    return lines


@safety_app.command("missed")
def missed(
    text: str = typer.Argument(
        ...,
        help="The message, as the user wrote it; - reads it from standard input (kept out of shell history).",
    ),
    category: str = typer.Option(..., help="Its category: cardiac, breathing, stroke, … violence_abuse."),
    language: str = typer.Option(
        None, help="en, hi (Devanagari) or hinglish (default: hi for Devanagari text, else en)."
    ),
) -> None:
    """Record a message the matcher did not flag but should have (its words are kept encrypted)."""
    from backend.access import SYSTEM
    from backend.models import utcnow
    from backend.safety import misses

    if text == "-":
        text = sys.stdin.read().strip()
    language = language or ("hi" if in_devanagari(text) else "en")
    try:
        misses.check(text, category, language)
    except misses.MissError as exc:
        fail(str(exc), code=BAD_INPUT)
    cipher = load_cipher()

    async def run(sessions):
        async with sessions() as session, session.begin():
            await misses.record(
                session,
                cipher,
                SYSTEM,
                text=text,
                category=category,
                language=language,
                at=utcnow(),
                channel="cli",
            )

    in_database(run)
    typer.echo(f"Recorded a missed {category} message ({language}). `telecare safety misses` lists them.")


@safety_app.command("misses")
def misses_csv(
    header: bool = typer.Option(False, "--header", help="Start with the header row."),
) -> None:
    """Every recorded miss, oldest first, as CSV rows of the evaluation set (text, category,
    language, kind, source), ready to add to eval/redflags/dev.csv."""
    from backend.access import SYSTEM
    from backend.safety import misses

    cipher = load_cipher()

    async def run(sessions):
        async with sessions() as session, session.begin():
            return await misses.all_misses(session, cipher, SYSTEM, channel="cli")

    writer = csv.writer(sys.stdout, lineterminator="\n")
    if header:
        writer.writerow(["text", "category", "language", "kind", "source"])
    for miss in in_database(run):
        writer.writerow([miss.text, miss.category, miss.language, "emergency", "operator"])
