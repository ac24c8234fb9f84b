"""A pharmacy's or lab's application: details and licence, then review by an admin.

Pharmacy: name → city → licence number → licence document → summary.
Lab: name → city → accreditation → home collection yes/no → accreditation document → summary.
The summary submits (status pending, admins notified) or lets the applicant change one answer.
After a rejection the same summary opens with the earlier answers, to correct and resubmit.

The helpers at the top (field cleaning, documents, the summary's "change" pattern) are shared
with the doctor's application (doctor_onboarding.py)."""

from __future__ import annotations

import unicodedata

from sqlalchemy import select

from backend.models import ProviderDocument, Role, StoredFile, VerificationStatus
from backend.providers import service as providers
from backend.providers.service import ProviderKind
from conversations.context import Context
from conversations.flow import Answer, Flow, Option, Outcome, Prompt, Step, next_step, prompt, retry, switch
from conversations.messages import InboundKind, RequestKind

FILE_STEP = frozenset({InboundKind.TEXT, InboundKind.CHOICE, InboundKind.FILE})
_REFUSED_CATEGORIES = {"So", "Sk", "Cc", "Cf", "Cs", "Co", "Cn"}  # emoji, symbols, control characters


# --- shared helpers ------------------------------------------------------------------------------


def clean_field(text: str, limit: int, *, minimum: int = 2) -> str | None:
    """Free text for a professional detail: whitespace collapsed, `minimum` to `limit` characters,
    at least one letter or digit, no emoji, symbols or control characters."""
    value = " ".join((text or "").split())
    if not minimum <= len(value) <= limit:
        return None
    if not any(ch.isalnum() for ch in value):
        return None
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in value):
        return None
    return value


def field_label(ctx: Context, key: str) -> str:
    """How the summary's "change" list names a form key ("doc_licence" is the licence document)."""
    if key.startswith("doc_"):
        return ctx.t(f"document_{key.removeprefix('doc_')}")
    return ctx.t(f"field_label_{key.removesuffix('_minor')}")


def after(ctx: Context, step: str) -> Outcome:
    """The next step, or back to the summary when the applicant is changing one answer."""
    if ctx.form.pop("editing", False):
        return Outcome(goto="summary", remember=False)
    return next_step(step)


def base_type(content_type: str) -> str:
    return (content_type or "").split(";")[0].strip().lower()


async def take_document(ctx: Context, answer: Answer, document: str) -> str | None:
    """Keep the file the user sent for `document` on the form; the refusal message otherwise."""
    inbound = answer.inbound
    if inbound.kind is not InboundKind.FILE:
        return ctx.t("document_send_a_file")
    stored = await ctx.session.get(StoredFile, inbound.file_ref[:32]) if inbound.file_ref else None
    if stored is None or stored.identity_id != ctx.identity.id:
        return ctx.t("document_not_received")
    if base_type(stored.content_type) not in providers.DOCUMENT_TYPES:
        return ctx.t("document_wrong_type")
    if stored.size > providers.MAX_DOCUMENT_BYTES or stored.size == 0:
        return ctx.t("document_wrong_size", megabytes=providers.MAX_DOCUMENT_BYTES // (1024 * 1024))
    ctx.form[f"doc_{document}"] = stored.id
    return None


def document_prompt(ctx: Context, document: str) -> Prompt:
    return prompt(ctx.t(f"ask_document_{document}"), request=RequestKind.FILE)


def refusal(ctx: Context, error: providers.ApplicationError) -> str:
    if error.reason == "invalid_field":
        return ctx.t("application_invalid_field", field=ctx.t(f"field_label_{error.details.get('field')}"))
    if error.reason in ("document_missing", "document_refused"):
        return ctx.t(
            f"application_{error.reason}", document=ctx.t(f"document_{error.details.get('document')}")
        )
    if error.reason == "already_submitted":
        return ctx.t("application_already_submitted", status=ctx.t(f"status_{error.details.get('status')}"))
    return ctx.t(f"application_{error.reason}")


async def documents_of(ctx: Context, kind: ProviderKind, provider_id: str) -> dict[str, str]:
    rows = await ctx.session.scalars(
        select(ProviderDocument).where(
            ProviderDocument.provider_kind == kind.value, ProviderDocument.provider_id == provider_id
        )
    )
    return {f"doc_{d.kind}": d.stored_file_id for d in rows}


def document_step(allowed, document: str, following: str) -> Step:
    """The step that takes one document (a file) and goes on to `following`."""

    async def ask(ctx: Context) -> Prompt:
        return document_prompt(ctx, document)

    async def answer(ctx: Context, answer_: Answer) -> Outcome:
        refused = await take_document(ctx, answer_, document)
        return retry(refused) if refused else after(ctx, following)

    return guarded(allowed, ask, answer, accepts=FILE_STEP)


def summary_prompt(ctx: Context, lines: list[str]) -> Prompt:
    """The application to check before sending, with the admins' reason when it is a resubmission."""
    texts = []
    if ctx.form.get("rejection_reason"):
        texts.append(ctx.t("application_correct_and_resubmit", reason=ctx.form["rejection_reason"]))
    texts.append(ctx.t("application_summary", lines="\n".join(lines)))
    return prompt(
        *texts,
        options=[
            Option("submit", ctx.t("btn_submit_application")),
            Option("change", ctx.t("btn_change_answer")),
        ],
    )


async def submit_application(ctx: Context, details, documents: dict[str, str]) -> Outcome:
    """Send the application (admins are told); a refusal is said and the summary asked again."""
    try:
        async with ctx.session.begin_nested():
            await providers.submit(
                ctx.session,
                ctx.cipher,
                user=ctx.user,
                details=details,
                documents=documents,
                channel=ctx.channel,
            )
    except providers.ApplicationError as refused:
        return retry(refusal(ctx, refused))
    return switch("menu", ctx.t("application_submitted"))


def change_prompt(ctx: Context, fields) -> Prompt:
    """Which answer to change: one option per (form key, step)."""
    return prompt(
        ctx.t("ask_which_answer"), options=[Option(step, field_label(ctx, key)) for key, step in fields]
    )


async def already_sent(ctx: Context, kind: ProviderKind) -> Outcome | None:
    """Back to the menu when the application is pending or verified: nothing to send again."""
    row = await providers.application_of(ctx.session, kind, ctx.user.id)
    if row is None or row.status is VerificationStatus.REJECTED:
        return None
    return switch("menu", ctx.t("application_already_submitted", status=ctx.t(f"status_{row.status.value}")))


def kind_of(ctx: Context) -> ProviderKind | None:
    role = ctx.user.role if ctx.user else None
    return {Role.PHARMACY: ProviderKind.PHARMACY, Role.LAB: ProviderKind.LAB}.get(role)


def enter(ctx: Context, flow: str, step: str) -> None:
    """Move the chat into `flow` at `step` from outside an Outcome (the menu's read-only views
    return text, not an Outcome): the same reset the engine makes when a step switches flows."""
    ctx.data.pop("form", None)
    ctx.data["history"] = []
    ctx.conversation.flow, ctx.conversation.step = flow, step


async def status_text(ctx: Context, kind: ProviderKind) -> str | None:
    """What the menu says about the user's application, moving the chat into the application when
    there is something to do (none yet, or rejected); None once verified."""
    flow = "doctor_onboarding" if kind is ProviderKind.DOCTOR else "provider_onboarding"
    row = await providers.application_of(ctx.session, kind, ctx.user.id)
    if row is None:
        enter(ctx, flow, "name")
        return ctx.t("application_not_started")
    if row.status is VerificationStatus.PENDING:
        return ctx.t("application_pending_status")
    if row.status is VerificationStatus.REJECTED:
        enter(ctx, flow, "summary")
        return ctx.t("application_rejected_status", reason=row.rejection_reason or "—")
    return None


# --- pharmacy and lab steps ----------------------------------------------------------------------


async def ask_name(ctx: Context) -> Prompt:
    return prompt(ctx.t(f"ask_{kind_of(ctx)}_name"))


async def answer_name(ctx: Context, answer: Answer) -> Outcome:
    name = clean_field(answer.text, providers.LIMITS["name"])
    if name is None:
        return retry(ctx.t("provider_name_invalid"))
    ctx.form["name"] = name
    return after(ctx, "city")


async def ask_city(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_provider_city"))


async def answer_city(ctx: Context, answer: Answer) -> Outcome:
    city = clean_field(answer.text, providers.LIMITS["city"])
    if city is None or not all(ch.isalpha() or ch in " .-'’()" for ch in city):
        return retry(ctx.t("provider_city_invalid"))
    ctx.form["city"] = city
    return after(ctx, "licence_number" if kind_of(ctx) is ProviderKind.PHARMACY else "accreditation")


async def ask_licence_number(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_pharmacy_licence_number"))


async def answer_licence_number(ctx: Context, answer: Answer) -> Outcome:
    number = clean_field(answer.text, providers.LIMITS["licence_number"])
    if number is None:
        return retry(ctx.t("provider_number_invalid"))
    ctx.form["licence_number"] = number
    return after(ctx, "licence")


async def ask_accreditation(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_lab_accreditation"))


async def answer_accreditation(ctx: Context, answer: Answer) -> Outcome:
    number = clean_field(answer.text, providers.LIMITS["accreditation"])
    if number is None:
        return retry(ctx.t("provider_number_invalid"))
    ctx.form["accreditation"] = number
    return after(ctx, "home_collection")


async def ask_home_collection(ctx: Context) -> Prompt:
    return prompt(
        ctx.t("ask_lab_home_collection"),
        options=[Option("yes", ctx.t("btn_provider_yes")), Option("no", ctx.t("btn_provider_no"))],
    )


async def answer_home_collection(ctx: Context, answer: Answer) -> Outcome:
    ctx.form["home_collection"] = answer.value == "yes"
    return after(ctx, "accreditation_document")


# What a pharmacy's and a lab's form hold, in order, with the step that asks each.
_FIELDS = {
    ProviderKind.PHARMACY: (
        ("name", "name"),
        ("city", "city"),
        ("licence_number", "licence_number"),
        ("doc_licence", "licence"),
    ),
    ProviderKind.LAB: (
        ("name", "name"),
        ("city", "city"),
        ("accreditation", "accreditation"),
        ("home_collection", "home_collection"),
        ("doc_accreditation", "accreditation_document"),
    ),
}


async def _load_existing(ctx: Context, kind: ProviderKind) -> None:
    """A rejected application's answers, to correct rather than type again."""
    if ctx.form.get("loaded"):
        return
    ctx.form["loaded"] = True
    row = await providers.application_of(ctx.session, kind, ctx.user.id)
    if row is None or row.status is not VerificationStatus.REJECTED:
        return
    ctx.form.setdefault("name", row.name)
    ctx.form.setdefault("city", row.city)
    if kind is ProviderKind.PHARMACY:
        ctx.form.setdefault("licence_number", row.licence_number)
    else:
        ctx.form.setdefault("accreditation", row.accreditation)
        ctx.form.setdefault("home_collection", row.home_collection)
    for key, value in (await documents_of(ctx, kind, row.id)).items():
        ctx.form.setdefault(key, value)
    ctx.form["rejection_reason"] = row.rejection_reason or ""


def _missing(ctx: Context, kind: ProviderKind) -> str | None:
    return next((step for key, step in _FIELDS[kind] if key not in ctx.form), None)


async def ask_summary(ctx: Context) -> Prompt:
    kind = kind_of(ctx)
    await _load_existing(ctx, kind)
    form = ctx.form
    yes_no = ctx.t("btn_provider_yes") if form.get("home_collection") else ctx.t("btn_provider_no")
    lines = [
        ctx.t("summary_line", label=ctx.t("field_label_name"), value=form.get("name", "—")),
        ctx.t("summary_line", label=ctx.t("field_label_city"), value=form.get("city", "—")),
    ]
    if kind is ProviderKind.PHARMACY:
        lines.append(
            ctx.t(
                "summary_line",
                label=ctx.t("field_label_licence_number"),
                value=form.get("licence_number", "—"),
            )
        )
        lines.append(
            ctx.t("summary_document", document=ctx.t("document_licence"), ok=_tick(form, "doc_licence"))
        )
    else:
        lines.append(
            ctx.t(
                "summary_line", label=ctx.t("field_label_accreditation"), value=form.get("accreditation", "—")
            )
        )
        lines.append(ctx.t("summary_line", label=ctx.t("field_label_home_collection"), value=yes_no))
        lines.append(
            ctx.t(
                "summary_document",
                document=ctx.t("document_accreditation"),
                ok=_tick(form, "doc_accreditation"),
            )
        )
    return summary_prompt(ctx, lines)


def _tick(form: dict, key: str) -> str:
    return "✅" if form.get(key) else "—"


async def answer_summary(ctx: Context, answer: Answer) -> Outcome:
    kind = kind_of(ctx)
    if answer.value == "change":
        return next_step("change")
    if sent := await already_sent(ctx, kind):
        return sent
    if missing := _missing(ctx, kind):
        return Outcome(goto=missing, remember=False)
    form = ctx.form
    if kind is ProviderKind.PHARMACY:
        details = providers.PharmacyDetails(form["name"], form["city"], form["licence_number"])
        documents = {"licence": form["doc_licence"]}
    else:
        details = providers.LabDetails(
            form["name"], form["city"], form["accreditation"], bool(form["home_collection"])
        )
        documents = {"accreditation": form["doc_accreditation"]}
    return await submit_application(ctx, details, documents)


async def ask_change(ctx: Context) -> Prompt:
    return change_prompt(ctx, _FIELDS[kind_of(ctx)])


async def answer_change(ctx: Context, answer: Answer) -> Outcome:
    ctx.form["editing"] = True
    return Outcome(goto=answer.value, remember=False)


def guarded(allowed, ask, answer, **options) -> Step:
    """A step only for applicants of the flow's kind (`allowed(ctx)`); anyone else who lands here
    (a stale state, another role) is sent to the menu instead of seeing half a form."""

    async def ask_if_allowed(ctx: Context) -> Prompt:
        if not allowed(ctx):
            return prompt(ctx.t("not_allowed"), options=[Option("menu", ctx.t("btn_to_menu"))])
        return await ask(ctx)

    async def answer_if_allowed(ctx: Context, answer_: Answer) -> Outcome:
        if not allowed(ctx):
            return switch("menu")
        return await answer(ctx, answer_)

    return Step(ask_if_allowed, answer_if_allowed, **options)


def _is_pharmacy_or_lab(ctx: Context) -> bool:
    return kind_of(ctx) is not None


FLOW = Flow(
    name="provider_onboarding",
    first="name",
    steps={
        "name": guarded(_is_pharmacy_or_lab, ask_name, answer_name),
        "city": guarded(_is_pharmacy_or_lab, ask_city, answer_city),
        "licence_number": guarded(_is_pharmacy_or_lab, ask_licence_number, answer_licence_number),
        "accreditation": guarded(_is_pharmacy_or_lab, ask_accreditation, answer_accreditation),
        "home_collection": guarded(_is_pharmacy_or_lab, ask_home_collection, answer_home_collection),
        "licence": document_step(_is_pharmacy_or_lab, "licence", "summary"),
        "accreditation_document": document_step(_is_pharmacy_or_lab, "accreditation", "summary"),
        "summary": guarded(_is_pharmacy_or_lab, ask_summary, answer_summary),
        "change": guarded(_is_pharmacy_or_lab, ask_change, answer_change),
    },
)
