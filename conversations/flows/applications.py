"""An admin's review of pending applications (doctors, pharmacies, labs), and the buttons on the
messages about them.

list (oldest first, a page at a time) → one application: its details and its documents as
short-lived links → Approve (one tap) or Reject (asks the reason, which the applicant reads).
The first decision wins (backend/providers/service.py); whoever comes second is told who decided.

Buttons: an admin's "new application" message has Approve / Reject / View documents
(`application_review`); an applicant's rejection has "Correct and resubmit"
(`application_resubmit`), which opens their application again with the earlier answers."""

from __future__ import annotations

from babel.dates import format_date

from backend.access import AccessDenied
from backend.files import service as files
from backend.models import Role, VerificationStatus
from backend.providers import service as providers
from backend.providers.service import Application, ProviderKind
from conversations import actions
from conversations.context import Context
from conversations.copy import format_locale
from conversations.flow import Answer, Flow, Option, Outcome, Prompt, next_step, prompt, retry, say, switch
from conversations.flows.provider_onboarding import guarded
from conversations.messages import Document, Reply

PAGE_SIZE = 5
REVIEWING = "reviewing"  # conversation data (not the form, which a flow switch clears): "<kind>:<id>"
_ICONS = {ProviderKind.DOCTOR: "🩺", ProviderKind.PHARMACY: "💊", ProviderKind.LAB: "🧪"}
_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def _is_admin(ctx: Context) -> bool:
    return ctx.user is not None and ctx.user.role is Role.ADMIN


def _display(application: Application) -> str:
    prefix = "Dr " if application.kind is ProviderKind.DOCTOR else ""
    return f"{prefix}{application.name}"


# --- the list ---------------------------------------------------------------------------------


async def ask_list(ctx: Context) -> Prompt:
    page = max(0, int(ctx.form.get("page", 0)))
    found = await providers.list_applications(ctx.session, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    if not found.items and page > 0:  # the last page emptied meanwhile: start again
        ctx.form["page"] = page = 0
        found = await providers.list_applications(ctx.session, limit=PAGE_SIZE)
    if not found.items:
        return prompt(ctx.t("applications_none"), options=[Option("menu", ctx.t("btn_to_menu"))])
    options = [
        Option(
            a.ref,
            ctx.t(
                "application_list_item",
                icon=_ICONS[a.kind],
                name=_display(a)[:60],
                date=format_date(a.submitted_at, "d MMM", locale=format_locale(ctx.locale)),
            ),
        )
        for a in found.items
    ]
    if (page + 1) * PAGE_SIZE < found.total:
        options.append(Option("more", ctx.t("btn_more_applications")))
    options.append(Option("menu", ctx.t("btn_to_menu")))
    first = page * PAGE_SIZE + 1
    return prompt(
        ctx.t("applications_waiting", total=found.total, first=first, last=first + len(found.items) - 1),
        options=options,
    )


async def answer_list(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "menu":
        return switch("menu")
    if answer.value == "more":
        ctx.form["page"] = int(ctx.form.get("page", 0)) + 1
        return retry()
    ref = providers.parse_ref(answer.value)
    if ref is None:
        return retry(ctx.t("pick_an_option"))
    ctx.data[REVIEWING] = answer.value
    return await _open(ctx, *ref)


# --- one application ----------------------------------------------------------------------------


async def _documents(ctx: Context, application: Application) -> tuple[Reply, ...]:
    """A short-lived link per document (audited as an admin's read of a provider document)."""
    replies = []
    minutes = int(files.LINK_LIFETIME.total_seconds() // 60)
    base = ctx.settings.public_base_url.rstrip("/")
    for number, info in enumerate(application.documents, start=1):
        try:
            token = await providers.document_link(
                ctx.session, ctx.actor, info.id, now=ctx.now, channel=ctx.channel
            )
        except (AccessDenied, providers.ApplicationNotFound):
            continue
        extension = _EXTENSIONS.get(info.content_type, "bin")
        label = ctx.t(f"document_{info.kind}")
        document = Document(
            filename=f"{application.kind.value}-{info.kind}-{number}.{extension}",
            url=f"{base}/files/{token}",
            caption=ctx.t("application_document_caption", document=label, minutes=minutes),
        )
        # The link is in the text too: a channel that cannot attach our file (Telegram uploads only
        # health summaries today) still gives the admin something to open.
        replies.append(
            Reply(
                text=ctx.t("application_document_line", document=label, url=document.url), document=document
            )
        )
    if not replies:
        replies.append(Reply(text=ctx.t("application_no_documents")))
    return tuple(replies)


async def _open(
    ctx: Context, kind: ProviderKind, application_id: str, *, from_button: bool = False
) -> Outcome:
    """The application's page, with its documents said first. From a message's button the chat
    moves into this flow; inside it, "back" returns to the list."""
    try:
        application = await providers.get_application(ctx.session, kind, application_id)
    except providers.ApplicationNotFound:
        ctx.data.pop(REVIEWING, None)
        return retry(ctx.t("application_not_found"))
    documents = await _documents(ctx, application)
    if from_button:
        return Outcome(say=documents, flow="applications", goto="detail", remember=False)
    return Outcome(say=documents, goto="detail")


def details_text(ctx: Context, application: Application) -> str:
    from conversations.flows import menu  # at run time: menu → overlays → registry → this module

    d = application.details
    lines = []
    if application.kind is ProviderKind.DOCTOR:
        for key in ("qualification", "council", "registration_number"):
            lines.append(ctx.t("summary_line", label=ctx.t(f"field_label_{key}"), value=d[key]))
        lines.append(
            ctx.t("summary_line", label=ctx.t("field_label_specialties"), value=", ".join(d["specialties"]))
        )
        lines.append(
            ctx.t("summary_line", label=ctx.t("field_label_languages"), value=", ".join(d["languages"]))
        )
        fee = menu.money(int(d["fee_minor"]), str(d["currency"]), ctx.locale)
        lines.append(ctx.t("summary_line", label=ctx.t("field_label_fee"), value=fee))
        lines.append(ctx.t("summary_line", label=ctx.t("field_label_bio"), value=d["bio"] or "—"))
    elif application.kind is ProviderKind.PHARMACY:
        for key in ("city", "licence_number"):
            lines.append(ctx.t("summary_line", label=ctx.t(f"field_label_{key}"), value=d[key]))
    else:
        for key in ("city", "accreditation"):
            lines.append(ctx.t("summary_line", label=ctx.t(f"field_label_{key}"), value=d[key]))
        yes_no = ctx.t("btn_provider_yes") if d["home_collection"] else ctx.t("btn_provider_no")
        lines.append(ctx.t("summary_line", label=ctx.t("field_label_home_collection"), value=yes_no))
    return ctx.t(
        f"application_detail_{application.kind.value}",
        name=application.name,
        submission=application.submission,
        status=ctx.t(f"status_{application.status.value}"),
        lines="\n".join(lines),
    )


def decided_text(ctx: Context, application: Application) -> str:
    """ "Already approved by Admin Ravi" (or rejected, with the reason)."""
    who = application.decided_by_name or ctx.t("another_admin")
    if application.status is VerificationStatus.VERIFIED:
        return ctx.t("application_already_approved", by=who)
    return ctx.t("application_already_rejected", by=who, reason=application.rejection_reason or "—")


async def _reviewing(ctx: Context) -> Application | None:
    ref = providers.parse_ref(ctx.data.get(REVIEWING))
    if ref is None:
        return None
    try:
        return await providers.get_application(ctx.session, *ref)
    except providers.ApplicationNotFound:
        return None


async def ask_detail(ctx: Context) -> Prompt:
    application = await _reviewing(ctx)
    if application is None:
        return prompt(
            ctx.t("application_not_found"), options=[Option("list", ctx.t("btn_back_to_applications"))]
        )
    text = details_text(ctx, application)
    if application.status is not VerificationStatus.PENDING:
        return prompt(
            text, decided_text(ctx, application), options=[Option("list", ctx.t("btn_back_to_applications"))]
        )
    return prompt(
        text,
        options=[
            Option("approve", ctx.t("btn_application_approve")),
            Option("reject", ctx.t("btn_application_reject")),
            Option("documents", ctx.t("btn_show_documents")),
            Option("list", ctx.t("btn_back_to_applications")),
        ],
    )


async def answer_detail(ctx: Context, answer: Answer) -> Outcome:
    application = await _reviewing(ctx)
    if answer.value == "list" or application is None:
        return Outcome(goto="list", remember=False)
    if answer.value == "documents":
        return Outcome(say=await _documents(ctx, application), stay=True)
    if answer.value == "approve":
        text, _ = await _approve(ctx, application.kind, application.id)
        return Outcome(say=say(text), goto="list", remember=False)
    if answer.value == "reject":
        if application.status is not VerificationStatus.PENDING:
            return retry(decided_text(ctx, application))
        return next_step("reason")
    return retry(ctx.t("pick_an_option"))


async def _approve(ctx: Context, kind: ProviderKind, application_id: str) -> tuple[str, bool]:
    """What to tell the admin, and whether their decision was the one taken."""
    try:
        done = await providers.approve(
            ctx.session, ctx.cipher, ctx.actor, kind, application_id, now=ctx.now, channel=ctx.channel
        )
    except providers.AlreadyDecided as decided:
        return decided_text(ctx, decided.application), False
    except providers.ApplicationNotFound:
        return ctx.t("application_not_found"), False
    # The application stays open if the admin was reading it: it now shows as decided.
    return ctx.t("application_approved_by_you", name=_display(done)), True


# --- the reason for a rejection -----------------------------------------------------------------


async def ask_reason(ctx: Context) -> Prompt:
    application = await _reviewing(ctx)
    name = _display(application) if application else "—"
    return prompt(
        ctx.t("ask_rejection_reason", name=name, most=providers.MAX_REASON_CHARS),
        options=[Option("cancel", ctx.t("btn_cancel_rejection"))],
    )


async def answer_reason(ctx: Context, answer: Answer) -> Outcome:
    application = await _reviewing(ctx)
    if application is None:
        return Outcome(say=say(ctx.t("application_not_found")), goto="list", remember=False)
    if answer.value == "cancel":
        return Outcome(goto="detail", remember=False)
    try:
        done = await providers.reject(
            ctx.session,
            ctx.cipher,
            ctx.actor,
            application.kind,
            application.id,
            answer.text,
            now=ctx.now,
            channel=ctx.channel,
        )
    except providers.ApplicationError:
        return retry(ctx.t("rejection_reason_invalid", most=providers.MAX_REASON_CHARS))
    except providers.AlreadyDecided as decided:
        ctx.data.pop(REVIEWING, None)
        return Outcome(say=say(decided_text(ctx, decided.application)), goto="list", remember=False)
    ctx.data.pop(REVIEWING, None)
    return Outcome(
        say=say(ctx.t("application_rejected_by_you", name=_display(done))), goto="list", remember=False
    )


FLOW = Flow(
    name="applications",
    first="list",
    steps={
        "list": guarded(_is_admin, ask_list, answer_list),
        "detail": guarded(_is_admin, ask_detail, answer_detail),
        # The reason is the admin's own words to the applicant; "fraudulent documents" is not an
        # emergency, and red-flag words in it must not block it.
        "reason": guarded(_is_admin, ask_reason, answer_reason, free_text=True, records_history=True),
    },
)


# --- buttons on messages --------------------------------------------------------------------------


async def review_pressed(ctx: Context, value: str, ref: str | None) -> Outcome | None:
    """Approve / Reject / View on an admin's "new application" message."""
    parsed = providers.parse_ref(ref)
    if not _is_admin(ctx) or parsed is None:
        return None
    kind, application_id = parsed
    try:
        application = await providers.get_application(ctx.session, kind, application_id)
    except providers.ApplicationNotFound:
        return None
    if value == "approve":
        text, _ = await _approve(ctx, kind, application_id)
        return retry(text)  # the admin stays where they were
    ctx.data[REVIEWING] = application.ref
    if value == "view":
        return await _open(ctx, kind, application_id, from_button=True)
    if value == "reject":
        if application.status is not VerificationStatus.PENDING:
            return retry(decided_text(ctx, application))
        return switch("applications", step="reason")
    return None


async def resubmit_pressed(ctx: Context, value: str, ref: str | None) -> Outcome | None:
    """ "Correct and resubmit" on a rejection: the application again, with the earlier answers."""
    parsed = providers.parse_ref(ref)
    if value != "resubmit" or parsed is None or ctx.user is None:
        return None
    kind, application_id = parsed
    row = await providers.application_of(ctx.session, kind, ctx.user.id)
    if row is None or row.id != application_id or row.status is not VerificationStatus.REJECTED:
        return None
    flow = "doctor_onboarding" if kind is ProviderKind.DOCTOR else "provider_onboarding"
    return switch(flow, step="summary")


actions.register(providers.REVIEW_ACTION, review_pressed, look_only=frozenset({"view"}))
actions.register(providers.RESUBMIT_ACTION, resubmit_pressed)
