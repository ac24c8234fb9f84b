"""How well the emergency red-flag matcher catches emergencies people write, and how often it
raises a false alarm: recall per category and per language, and the false-alarm rate on ordinary
and history-only messages, on one part of the evaluation set (eval/redflags/, see its README).

    python eval/redflags.py            # the test part (held out: report it, never tune on it)
    python eval/redflags.py --part dev # the development part
    make eval-redflags                 # the test part

A message counts as caught when the matcher flags it as happening now and not doubtful (every
such flag shows the emergency card); a doubtful flag (the gentle note with 112 / 108 instead of
the card) is counted apart. The category it names is reported beside, since a mental-health crisis
gets its own card."""

from __future__ import annotations

import argparse
import csv
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from conversations.emergency import MODEL_PHRASE, detect_red_flag

HERE = Path(__file__).resolve().parent / "redflags"

LANGUAGES = ("en", "hi", "hinglish")


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    category: str  # an emergency category, or "none"
    language: str
    kind: str  # emergency | ordinary | history
    source: str


def load(part: str) -> list[Row]:
    with (HERE / f"{part}.csv").open(encoding="utf-8", newline="") as handle:
        return [Row(**{key: value.strip() for key, value in row.items()}) for row in csv.DictReader(handle)]


@dataclass
class Tally:
    caught: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.caught += hit
        self.total += 1

    def percent(self) -> str:
        return f"{100 * self.caught / self.total:5.1f}% ({self.caught}/{self.total})" if self.total else "—"


def evaluate(rows: list[Row], *, model: bool = True) -> dict:
    """Recall per category × language, false alarms per kind × language, and what was missed.
    `model=False`: the rules alone, without the statistical model (conversations/redflags/model.py)."""
    recall: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    alarms: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    missed: list[Row] = []
    raised: list[tuple[Row, str]] = []
    named: Counter = Counter()
    doubted: Counter = Counter()  # flags for now that got the note, not the card, by kind
    for row in rows:
        hit = detect_red_flag(row.text, model=model)
        doubted[row.kind] += hit is not None and hit.doubtful
        hit = hit if hit is not None and hit.urgent else None
        if row.kind == "emergency":
            for category in (row.category, "all"):
                recall[category][row.language].add(hit is not None)
                recall[category]["all"].add(hit is not None)
            if hit is None:
                missed.append(row)
            elif hit.category == row.category:
                named[row.category] += 1
        else:
            for kind in (row.kind, "all"):
                alarms[kind][row.language].add(hit is not None)
                alarms[kind]["all"].add(hit is not None)
            if hit is not None:
                raised.append((row, hit.category))
    return {
        "recall": recall,
        "alarms": alarms,
        "missed": missed,
        "raised": raised,
        "named": named,
        "doubted": doubted,
    }


def table(title: str, tallies: dict[str, dict[str, Tally]], order: list[str]) -> list[str]:
    header = f"| {title} | " + " | ".join([*LANGUAGES, "all"]) + " |"
    lines = [header, "|" + " --- |" * (len(LANGUAGES) + 2)]
    for name in order:
        if name in tallies:
            cells = [tallies[name][language].percent() for language in (*LANGUAGES, "all")]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("test", "dev"), default="test")
    parser.add_argument("--show", action="store_true", help="list the misses and the false alarms")
    args = parser.parse_args(argv)
    rows = load(args.part)
    result = evaluate(rows)
    categories = [*sorted({row.category for row in rows if row.kind == "emergency"}), "all"]
    print(f"Red-flag matcher on the {args.part} part: {len(rows)} messages\n")
    print("\n".join(table("recall", result["recall"], categories)))
    print()
    print("\n".join(table("false alarms", result["alarms"], ["ordinary", "history", "all"])))
    caught = result["recall"]["all"]["all"].caught
    print(f"\nOf {caught} caught, {sum(result['named'].values())} were named in their own category.")
    doubted = result["doubted"]
    print(
        f"Doubtful flags (the note instead of the card): {doubted['emergency']} emergencies, "
        f"{doubted['ordinary'] + doubted['history']} ordinary or history messages."
    )
    rules = evaluate(rows, model=False)
    by_model = sum(1 for row in rows if (hit := detect_red_flag(row.text)) and hit.phrase == MODEL_PHRASE)
    print(
        f"The rules alone: recall {rules['recall']['all']['all'].percent()}, "
        f"false alarms {rules['alarms']['all']['all'].percent()}; the model added {by_model} flags."
    )
    if args.show:
        print("\nMissed:")
        for row in result["missed"]:
            print(f"  [{row.category}/{row.language}] {row.text}")
        print("\nFalse alarms:")
        for row, category in result["raised"]:
            print(f"  [{row.kind}/{row.language} → {category}] {row.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
