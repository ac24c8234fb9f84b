"""A patient's search for a doctor: a specialty typed in their own words or picked, optional
language and fee filters, earliest-available or lowest-fee order, pages of five with "More", and a
doctor's credentials before "Book" hands over to the booking flow."""

from __future__ import annotations

import re
from datetime import datetime

from backend.models import Doctor, VerificationStatus
from backend.scheduling import search
from backend.scheduling.names import language_name, language_names, specialty_name, specialty_names
from backend.scheduling.service import next_free_starts
from conversations import unbuilt, when
from conversations.context import Context
from conversations.flow import Answer, Flow, Option, Outcome, Prompt, Step, prompt, retry, switch
from conversations.flows.menu import money

PAGE_SIZE = 5
LANGUAGE_BUTTONS = 8
# Fee bands offered as buttons, in major units of the platform currency: (low, high), None = open.
FEE_BANDS: tuple[tuple[int | None, int | None], ...] = ((None, 500), (500, 1000), (1000, None))
_AMOUNT = re.compile(r"\d{1,7}")


def _form_defaults(ctx: Context) -> dict:
    form = ctx.form
    form.setdefault("order", "earliest")
    form.setdefault("offset", 0)
    return form


def _money(ctx: Context, minor: int, currency: str) -> str:
    return money(minor, currency, ctx.locale)


def _next_free(ctx: Context, starts: list[datetime]) -> str:
    return "; ".join(when.when(ctx, start) for start in starts) if starts else ctx.t("fd_no_free_slots")


# --- specialty -------------------------------------------------------------------------------------


async def ask_specialty(ctx: Context) -> Prompt:
    practised = await search.specialty_names(ctx.session, practised=True)
    # What the last answer came closest to goes first (see _no_specialty).
    suggested = [name for name in ctx.form.get("suggest", []) if name in practised]
    ordered = suggested + [name for name in practised if name not in suggested]
    # The value is the English key (filters and saved conversations use it); the label is the
    # user's language.
    options = [Option(f"sp:{name}", specialty_name(name, ctx.locale)) for name in ordered]
    options += [Option("any", ctx.t("fd_btn_any_specialty")), Option("menu", ctx.t("menu_button"))]
    return prompt(ctx.t("fd_ask_specialty"), options=options)


async def answer_specialty(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "menu":
        return switch("menu")
    if answer.value == "any":
        specialty = None
    elif answer.value and answer.value.startswith("sp:"):
        specialty = answer.value.removeprefix("sp:")
    else:
        specialty = search.match_specialty(answer.text, await search.specialty_names(ctx.session))
        practised = await search.specialty_names(ctx.session, practised=True)
        if specialty not in practised:
            return _no_specialty(ctx, answer.text, specialty, practised)
    form = _form_defaults(ctx)
    form.update(specialty=specialty, offset=0)
    form.pop("suggest", None)
    return Outcome(goto="results")


def _no_specialty(ctx: Context, text: str, matched: str | None, practised: list[str]) -> Outcome:
    """Nobody here practises what the words name ("eye doctor"), or they name nothing we know:
    say which, and put the nearest specialties (or the general physician) first."""
    wanted = matched or search.named_specialty(text)
    if wanted is None and (said := unbuilt.answer_key(text)):
        return retry(ctx.t(said))  # "order medicines" names no specialty: answer it honestly
    general = [search.GENERAL_PHYSICIAN] if search.GENERAL_PHYSICIAN in practised else []
    if wanted is not None and wanted not in practised:
        ctx.form["suggest"] = general
        key = "fd_no_doctor_for_try_general" if general else "fd_no_doctor_for"
        shown = specialty_name(wanted, ctx.locale)
        return retry(
            ctx.t(key, specialty=shown, general=specialty_name(search.GENERAL_PHYSICIAN, ctx.locale))
        )
    nearest = search.nearest_specialties(text, practised)
    ctx.form["suggest"] = nearest or general
    if not nearest:
        return retry(ctx.t("fd_specialty_unknown", text=text[:60]))
    return retry(ctx.t("fd_specialty_nearest", text=text[:60], nearest=specialty_names(nearest, ctx.locale)))


# --- results -----------------------------------------------------------------------------------------


async def _page(ctx: Context) -> search.SearchPage:
    form = _form_defaults(ctx)
    return await search.search_doctors(
        ctx.session,
        specialty_text=form.get("specialty"),
        language=form.get("language"),
        min_fee_minor=form.get("min_fee"),
        max_fee_minor=form.get("max_fee"),
        now=ctx.now,
        offset=form["offset"],
        limit=PAGE_SIZE,
        order=form["order"],
    )


def _card(ctx: Context, number: int, card: search.DoctorCard) -> str:
    doctor = card.doctor
    return ctx.t(
        "fd_card",
        number=number,
        name=doctor.full_name,
        qualification=doctor.qualification,
        specialties=specialty_names([s.name for s in doctor.specialties], ctx.locale),
        council=doctor.council,
        registration=doctor.registration_number,
        languages=language_names(doctor.languages, ctx.locale),
        fee=_money(ctx, doctor.fee_minor, doctor.currency),
        next_free=_next_free(ctx, card.next_free),
    )


def _fee_text(ctx: Context, low: int | None, high: int | None) -> str:
    currency = ctx.settings.currency
    if low is None and high is None:
        return ctx.t("fd_any_fee")
    if low is None:
        return ctx.t("fd_fee_up_to", high=_money(ctx, high, currency))
    if high is None:
        return ctx.t("fd_fee_from", low=_money(ctx, low, currency))
    return ctx.t("fd_fee_between", low=_money(ctx, low, currency), high=_money(ctx, high, currency))


def _filters(ctx: Context) -> str:
    form = ctx.form
    return ctx.t(
        "fd_filters",
        specialty=specialty_name(form["specialty"], ctx.locale)
        if form.get("specialty")
        else ctx.t("fd_any_specialty"),
        language=language_name(form["language"], ctx.locale)
        if form.get("language")
        else ctx.t("fd_any_language"),
        fee=_fee_text(ctx, form.get("min_fee"), form.get("max_fee")),
        order=ctx.t(f"fd_order_{form['order']}"),
    )


def _filter_options(ctx: Context) -> list[Option]:
    other = "fee" if ctx.form["order"] == "earliest" else "earliest"
    return [
        Option("language", ctx.t("fd_btn_language")),
        Option("fee", ctx.t("fd_btn_fee")),
        Option(f"order:{other}", ctx.t(f"fd_btn_order_{other}")),
        Option("new", ctx.t("fd_btn_new_search")),
        Option("menu", ctx.t("menu_button")),
    ]


async def ask_results(ctx: Context) -> Prompt:
    page = await _page(ctx)
    offset = ctx.form["offset"]
    if not page.cards:
        key = "fd_no_more" if offset else "fd_nothing_found"
        return prompt(_filters(ctx), ctx.t(key), options=_filter_options(ctx))
    cards = "\n\n".join(_card(ctx, offset + n, card) for n, card in enumerate(page.cards, start=1))
    options = [
        Option(f"doc:{card.doctor.id}", ctx.t("fd_btn_doctor", name=card.doctor.full_name))
        for card in page.cards
    ]
    if page.has_more:
        options.append(Option("more", ctx.t("fd_btn_more")))
    return prompt(_filters(ctx), cards, ctx.t("fd_pick_doctor"), options=options + _filter_options(ctx))


async def answer_results(ctx: Context, answer: Answer) -> Outcome:
    value = answer.value or ""
    form = ctx.form
    if value == "menu":
        return switch("menu")
    if value == "new":
        ctx.data.pop("form", None)
        return Outcome(goto="specialty", remember=False)
    if value == "more":
        form["offset"] = form.get("offset", 0) + PAGE_SIZE
        return Outcome(stay=True)
    if value.startswith("order:"):
        form.update(order=value.removeprefix("order:"), offset=0)
        return Outcome(stay=True)
    if value.startswith("doc:"):
        form["doctor_id"] = value.removeprefix("doc:")
        return Outcome(goto="doctor")
    return Outcome(goto=value)  # "language" or "fee"


# --- filters -------------------------------------------------------------------------------------------


async def ask_language(ctx: Context) -> Prompt:
    spoken = (await search.languages_spoken(ctx.session))[:LANGUAGE_BUTTONS]
    options = [Option(f"lang:{name}", language_name(name, ctx.locale)) for name in spoken]
    options.append(Option("any", ctx.t("fd_any_language")))
    return prompt(ctx.t("fd_ask_language"), options=options)


async def answer_language(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "any":
        language = None
    elif answer.value and answer.value.startswith("lang:"):
        language = answer.value.removeprefix("lang:")
    else:
        language = search.match_language(answer.text, await search.languages_spoken(ctx.session))
        if language is None:
            return retry(ctx.t("fd_language_unknown", text=answer.text[:40]))
    ctx.form.update(language=language, offset=0)
    return Outcome(goto="results", remember=False)


def _band_value(low: int | None, high: int | None) -> str:
    return f"band:{'' if low is None else low}-{'' if high is None else high}"


async def ask_fee(ctx: Context) -> Prompt:
    options = [
        Option(_band_value(low, high), _fee_text(ctx, low and low * 100, high and high * 100))
        for low, high in FEE_BANDS
    ]
    options.append(Option("band:-", ctx.t("fd_any_fee")))
    return prompt(ctx.t("fd_ask_fee"), options=options)


def parse_fee_range(text: str) -> tuple[int | None, int | None] | None:
    """Typed amounts in major units: "300-800" → (300, 800); "800" or "under 800" → (None, 800)."""
    amounts = [int(a) for a in _AMOUNT.findall(text.replace(",", ""))]
    if len(amounts) == 1:
        return None, amounts[0]
    if len(amounts) == 2:
        low, high = sorted(amounts)
        return low, high
    return None


async def answer_fee(ctx: Context, answer: Answer) -> Outcome:
    if answer.value and answer.value.startswith("band:"):
        low_text, high_text = answer.value.removeprefix("band:").split("-")
        low, high = (int(low_text) if low_text else None), (int(high_text) if high_text else None)
    else:
        parsed = parse_fee_range(answer.text)
        if parsed is None:
            return retry(ctx.t("fd_fee_invalid"))
        low, high = parsed
    ctx.form.update(
        min_fee=None if low is None else low * 100, max_fee=None if high is None else high * 100, offset=0
    )
    return Outcome(goto="results", remember=False)


# --- one doctor ----------------------------------------------------------------------------------------


async def _listed_doctor(ctx: Context) -> Doctor | None:
    doctor = await ctx.session.get(Doctor, ctx.form.get("doctor_id") or "")
    return doctor if doctor is not None and doctor.status is VerificationStatus.VERIFIED else None


async def ask_doctor(ctx: Context) -> Prompt:
    doctor = await _listed_doctor(ctx)
    back = Option("back", ctx.t("fd_btn_back_to_results"))
    if doctor is None:
        return prompt(ctx.t("fd_doctor_gone"), options=[back])
    starts = await next_free_starts(ctx.session, doctor.id, now=ctx.now, count=search.NEXT_FREE_SHOWN)
    details = ctx.t(
        "fd_doctor_details",
        name=doctor.full_name,
        qualification=doctor.qualification,
        specialties=specialty_names([s.name for s in doctor.specialties], ctx.locale),
        council=doctor.council,
        registration=doctor.registration_number,
        languages=language_names(doctor.languages, ctx.locale),
        fee=_money(ctx, doctor.fee_minor, doctor.currency),
        bio=doctor.bio or "—",
        next_free=_next_free(ctx, starts),
        timezone=when.zone(ctx).key,
    )
    return prompt(details, options=[Option("book", ctx.t("fd_btn_book")), back])


async def answer_doctor(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "back":
        return Outcome(goto="results", remember=False)
    doctor = await _listed_doctor(ctx)
    if doctor is None:
        return Outcome(goto="results", remember=False)
    ctx.data["booking"] = {"doctor_id": doctor.id}
    return Outcome(flow="booking", returnable=True)  # "back" from the day picker: this card again


FLOW = Flow(
    name="find_doctor",
    first="specialty",
    steps={
        "specialty": Step(ask_specialty, answer_specialty, free_text=True, takes_words=True),
        "results": Step(ask_results, answer_results),
        "language": Step(ask_language, answer_language, free_text=True, language_answer=True),
        "fee": Step(ask_fee, answer_fee, free_text=True),
        "doctor": Step(ask_doctor, answer_doctor),
    },
    halt_on_emergency=True,
)
