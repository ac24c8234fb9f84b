"""A doctor's application: details, specialties, fee and documents, then review by an admin.

name → qualification → medical council → registration number → specialties → languages → fee →
bio (skippable) → licence (file) → ID proof (file) → summary → submitted (status pending; every
admin is notified). The summary can change any one answer. After a rejection the summary opens
again with the earlier answers and the reason, to correct and resubmit."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import NumberFormatError, parse_decimal
from rapidfuzz import fuzz, process, utils
from sqlalchemy import func, select

from backend.models import Doctor, Role, VerificationStatus
from backend.providers import service as providers
from backend.providers.service import ProviderKind
from backend.scheduling.search import canonical_language
from conversations.context import Context
from conversations.copy import format_locale
from conversations.flow import Answer, Flow, Option, Outcome, Prompt, next_step, prompt, retry, say
from conversations.flows.provider_onboarding import (
    after,
    already_sent,
    answer_change,
    change_prompt,
    clean_field,
    document_step,
    documents_of,
    guarded,
    submit_application,
    summary_prompt,
)
from conversations.flows.signup import clean_name

SPECIALTY_CUTOFF = 80  # rapidfuzz WRatio: "dermatolgy" → Dermatology, "cardio" → Cardiology
_LIST_SPLIT = re.compile(r"\s*(?:,|;|/|\n|\band\b|\bऔर\b|&)\s*", re.IGNORECASE)
_DR_PREFIX = re.compile(r"^\s*(dr\.?|doctor|डॉ\.?)\s+", re.IGNORECASE)
_CURRENCY_WORDS = re.compile(r"(₹|rs\.?|inr|rupees?|रुपये|रुपए|/-)", re.IGNORECASE)

# Form keys in order, with the step that asks each (the summary's "change" list, and where a
# missing answer is asked again).
FIELDS = (
    ("full_name", "name"),
    ("qualification", "qualification"),
    ("council", "council"),
    ("registration_number", "registration"),
    ("specialties", "specialties"),
    ("languages", "languages"),
    ("fee_minor", "fee"),
    ("bio", "bio"),
    ("doc_licence", "licence"),
    ("doc_id_proof", "id_proof"),
)


def _is_doctor(ctx: Context) -> bool:
    return ctx.user is not None and ctx.user.role is Role.DOCTOR


# --- name, qualification, council, registration ---------------------------------------------


async def ask_name(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_doctor_name"))


async def answer_name(ctx: Context, answer: Answer) -> Outcome:
    name = clean_name(_DR_PREFIX.sub("", answer.text))
    if name is None or len(name) > providers.LIMITS["full_name"]:
        return retry(ctx.t("doctor_name_invalid"))
    ctx.form["full_name"] = name
    return after(ctx, "qualification")


async def ask_qualification(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_qualification"))


async def answer_qualification(ctx: Context, answer: Answer) -> Outcome:
    value = clean_field(answer.text, providers.LIMITS["qualification"])
    if value is None:
        return retry(ctx.t("qualification_invalid"))
    ctx.form["qualification"] = value
    return after(ctx, "council")


async def ask_council(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_council"))


async def answer_council(ctx: Context, answer: Answer) -> Outcome:
    value = clean_field(answer.text, providers.LIMITS["council"])
    if value is None or not any(ch.isalpha() for ch in value):
        return retry(ctx.t("council_invalid"))
    ctx.form["council"] = value
    if ctx.form.get("registration_number") and await _taken(ctx, value, ctx.form["registration_number"]):
        ctx.form.pop("editing", None)  # the number must be typed again for this council
        return Outcome(
            say=say(ctx.t("application_duplicate_registration")), goto="registration", remember=False
        )
    return after(ctx, "registration")


async def ask_registration(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_registration_number", council=ctx.form.get("council", "—")))


def clean_registration(text: str) -> str | None:
    """Letters, digits and the separators councils use (- / . space), with at least one digit."""
    value = " ".join((text or "").split())
    if not 2 <= len(value) <= providers.LIMITS["registration_number"]:
        return None
    if not any(ch.isdigit() for ch in value):
        return None
    if not all(ch.isascii() and (ch.isalnum() or ch in "-/. ") for ch in value):
        return None
    return value.upper()


async def _taken(ctx: Context, council: str, number: str) -> bool:
    """Another doctor already registered this council and number (case-insensitive)."""
    own = await providers.application_of(ctx.session, ProviderKind.DOCTOR, ctx.user.id)
    query = select(Doctor.id).where(
        func.lower(Doctor.council) == council.lower(),
        func.lower(Doctor.registration_number) == number.lower(),
    )
    if own is not None:
        query = query.where(Doctor.id != own.id)
    return await ctx.session.scalar(query.limit(1)) is not None


async def answer_registration(ctx: Context, answer: Answer) -> Outcome:
    number = clean_registration(answer.text)
    if number is None:
        return retry(ctx.t("registration_invalid"))
    if await _taken(ctx, ctx.form.get("council", ""), number):
        return retry(ctx.t("application_duplicate_registration"))
    ctx.form["registration_number"] = number
    return after(ctx, "specialties")


# --- specialties, languages, fee, bio ---------------------------------------------------------


async def ask_specialties(ctx: Context) -> Prompt:
    known = await providers.known_specialties(ctx.session)
    listed = "\n".join(f"{i}. {s.name}" for i, s in enumerate(known, start=1))
    return prompt(ctx.t("ask_specialties", specialties=listed, most=providers.MAX_SPECIALTIES))


def match_specialties(text: str, names: list[str]) -> tuple[list[str], list[str]]:
    """(matched names, parts that matched nothing) for "cardio, 3, dermatolgy": numbers pick from
    the shown list, words are matched typo-tolerantly."""
    matched: list[str] = []
    unknown: list[str] = []
    for part in _LIST_SPLIT.split(text or ""):
        part = part.strip(" .")
        if not part:
            continue
        if part.isdigit():
            index = int(part) - 1
            name = names[index] if 0 <= index < len(names) else None
        else:
            best = process.extractOne(
                part,
                names,
                scorer=fuzz.WRatio,
                processor=utils.default_process,
                score_cutoff=SPECIALTY_CUTOFF,
            )
            name = best[0] if best else None
        if name is None:
            unknown.append(part[:40])
        elif name not in matched:
            matched.append(name)
    return matched, unknown


async def answer_specialties(ctx: Context, answer: Answer) -> Outcome:
    known = await providers.known_specialties(ctx.session)
    by_name = {s.name: s.id for s in known}
    matched, unknown = match_specialties(answer.text[:500], list(by_name))
    if unknown:
        return retry(ctx.t("specialties_unknown", unknown=", ".join(unknown)))
    if not matched:
        return retry(ctx.t("specialties_none"))
    if len(matched) > providers.MAX_SPECIALTIES:
        return retry(ctx.t("specialties_too_many", most=providers.MAX_SPECIALTIES))
    ctx.form["specialties"] = [[by_name[name], name] for name in matched]
    return after(ctx, "languages")


async def ask_languages(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_languages"))


def clean_languages(text: str) -> list[str] | None:
    """ "hindi, English and tamil" → ["Hindi", "English", "Tamil"]; None when any part is not a
    plausible language name (letters only)."""
    languages: list[str] = []
    for part in _LIST_SPLIT.split(text or ""):
        part = " ".join(part.split())
        if not part:
            continue
        # Letters of any script with their combining marks (Devanagari vowel signs are marks).
        letters = all(unicodedata.category(ch)[0] in "LM" or ch == " " for ch in part)
        if not 2 <= len(part) <= providers.LIMITS["language"] or not letters:
            return None
        # Stored by its English name when we know it ("हिंदी" → "Hindi"): search filters on that.
        name = canonical_language(part) or (part[:1].upper() + part[1:] if part.isascii() else part)
        if name.casefold() not in (n.casefold() for n in languages):
            languages.append(name)
    return languages or None


async def answer_languages(ctx: Context, answer: Answer) -> Outcome:
    languages = clean_languages(answer.text[:500])
    if languages is None:
        return retry(ctx.t("languages_invalid"))
    if len(languages) > providers.MAX_LANGUAGES:
        return retry(ctx.t("languages_too_many", most=providers.MAX_LANGUAGES))
    ctx.form["languages"] = languages
    return after(ctx, "fee")


async def ask_fee(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_fee"))


def parse_fee(text: str, locale: str = "en") -> int | None:
    """ "₹500", "500", "Rs. 1,500", "500.50" → minor units (paise); None when not an amount with at
    most two decimals."""
    cleaned = _CURRENCY_WORDS.sub("", text or "").strip()
    if not cleaned or len(cleaned) > 20 or not re.fullmatch(r"[\d,.\s]+", cleaned):
        return None
    try:
        amount = parse_decimal(cleaned.replace(" ", ""), locale=format_locale(locale), strict=False)
    except (NumberFormatError, InvalidOperation):
        return None
    if amount != amount.quantize(Decimal("0.01")) or amount < 0:
        return None
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


async def answer_fee(ctx: Context, answer: Answer) -> Outcome:
    minor = parse_fee(answer.text, ctx.locale)
    if minor is None:
        return retry(ctx.t("fee_invalid"))
    if not providers.FEE_MIN_MINOR <= minor <= providers.FEE_MAX_MINOR:
        return retry(
            ctx.t(
                "fee_out_of_range",
                least=providers.FEE_MIN_MINOR // 100,
                most=f"{providers.FEE_MAX_MINOR // 100:,}",
            )
        )
    ctx.form["fee_minor"] = minor
    return after(ctx, "bio")


async def ask_bio(ctx: Context) -> Prompt:
    return prompt(
        ctx.t("ask_bio", most=providers.MAX_BIO_CHARS), options=[Option("skip", ctx.t("btn_skip_bio"))]
    )


def _pictograph(ch: str) -> bool:
    return unicodedata.category(ch) in ("So", "Sk", "Cs", "Co") or ch in "\u200d\ufe0f\ufe0e"


async def answer_bio(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "skip":
        ctx.form["bio"] = ""
        return after(ctx, "licence")
    # Emoji and pictographs are left out (they are not shown to patients); the words are kept.
    bio = " ".join("".join(ch for ch in answer.text if not _pictograph(ch)).split())
    if len(bio) > providers.MAX_BIO_CHARS:
        return retry(ctx.t("bio_too_long", most=providers.MAX_BIO_CHARS))
    if clean_field(bio, providers.MAX_BIO_CHARS, minimum=2) is None:
        return retry(ctx.t("bio_invalid"))
    ctx.form["bio"] = bio
    return after(ctx, "licence")


# --- documents --------------------------------------------------------------------------------


# --- summary, change, submit ------------------------------------------------------------------


async def _load_existing(ctx: Context) -> None:
    """A rejected application's answers, to correct rather than type again."""
    if ctx.form.get("loaded"):
        return
    ctx.form["loaded"] = True
    row = await providers.application_of(ctx.session, ProviderKind.DOCTOR, ctx.user.id)
    if row is None or row.status is not VerificationStatus.REJECTED:
        return
    form = ctx.form
    form.setdefault("full_name", row.full_name)
    form.setdefault("qualification", row.qualification)
    form.setdefault("council", row.council)
    form.setdefault("registration_number", row.registration_number)
    form.setdefault("specialties", [[s.id, s.name] for s in row.specialties])
    form.setdefault("languages", list(row.languages))
    form.setdefault("fee_minor", row.fee_minor)
    form.setdefault("bio", row.bio)
    for key, value in (await documents_of(ctx, ProviderKind.DOCTOR, row.id)).items():
        form.setdefault(key, value)
    form["rejection_reason"] = row.rejection_reason or ""


def _summary_lines(ctx: Context) -> list[str]:
    from conversations.flows import menu  # at run time: menu → overlays → registry → this module

    form = ctx.form

    def line(key: str, value: object) -> str:
        return ctx.t("summary_line", label=ctx.t(f"field_label_{key}"), value=value if value else "—")

    def document(key: str) -> str:
        return ctx.t(
            "summary_document", document=ctx.t(f"document_{key}"), ok="✅" if form.get(f"doc_{key}") else "—"
        )

    fee = form.get("fee_minor")
    return [
        line("full_name", form.get("full_name")),
        line("qualification", form.get("qualification")),
        line("council", form.get("council")),
        line("registration_number", form.get("registration_number")),
        line("specialties", ", ".join(name for _, name in form.get("specialties", []))),
        line("languages", ", ".join(form.get("languages", []))),
        line("fee", menu.money(fee, "INR", ctx.locale) if fee is not None else None),
        line("bio", form.get("bio")),
        document("licence"),
        document("id_proof"),
    ]


async def ask_summary(ctx: Context) -> Prompt:
    await _load_existing(ctx)
    return summary_prompt(ctx, _summary_lines(ctx))


async def answer_summary(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "change":
        return next_step("change")
    if sent := await already_sent(ctx, ProviderKind.DOCTOR):
        return sent
    form = ctx.form
    missing = next((step for key, step in FIELDS if key not in form), None)
    if missing is not None:
        return Outcome(goto=missing, remember=False)
    details = providers.DoctorDetails(
        full_name=form["full_name"],
        qualification=form["qualification"],
        council=form["council"],
        registration_number=form["registration_number"],
        specialty_ids=tuple(specialty_id for specialty_id, _ in form["specialties"]),
        languages=tuple(form["languages"]),
        fee_minor=int(form["fee_minor"]),
        bio=form.get("bio") or "",
    )
    documents = {"licence": form["doc_licence"], "id_proof": form["doc_id_proof"]}
    return await submit_application(ctx, details, documents)


async def ask_change(ctx: Context) -> Prompt:
    return change_prompt(ctx, FIELDS)


FLOW = Flow(
    name="doctor_onboarding",
    first="name",
    steps={
        "name": guarded(_is_doctor, ask_name, answer_name),
        "qualification": guarded(_is_doctor, ask_qualification, answer_qualification),
        "council": guarded(_is_doctor, ask_council, answer_council),
        "registration": guarded(_is_doctor, ask_registration, answer_registration),
        "specialties": guarded(_is_doctor, ask_specialties, answer_specialties),
        "languages": guarded(_is_doctor, ask_languages, answer_languages, language_answer=True),
        "fee": guarded(_is_doctor, ask_fee, answer_fee),
        # A bio describes what the doctor treats ("chest pain, heart attack follow-ups"): it is not
        # an emergency, so red-flag words are noted, not blocking (as for medical history).
        "bio": guarded(_is_doctor, ask_bio, answer_bio, free_text=True, records_history=True),
        "licence": document_step(_is_doctor, "licence", "id_proof"),
        "id_proof": document_step(_is_doctor, "id_proof", "summary"),
        "summary": guarded(_is_doctor, ask_summary, answer_summary),
        "change": guarded(_is_doctor, ask_change, answer_change),
    },
)
