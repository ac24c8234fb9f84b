"""The main menu, by role, and the short read-only views it leads to for staff."""

from __future__ import annotations

from babel.numbers import format_currency

from backend import audit
from backend.access import Action, Resource, can
from backend.directory import service as directory
from backend.models import Role
from backend.scheduling.names import language_names, specialty_names
from conversations import overlays
from conversations.context import Context
from conversations.copy import format_locale
from conversations.flow import Answer, Flow, Option, Outcome, Prompt, Step, next_step, prompt, retry, switch

# An item named like a flow opens that flow; the others are short read-only views (_VIEWS).
_ROLE_ITEMS: dict[Role, tuple[str, ...]] = {
    Role.PATIENT: ("find_doctor", "appointments", "urgent", "profile"),
    Role.DOCTOR: ("appointments", "availability", "earnings", "doctor_details"),
    Role.PHARMACY: ("stock",),
    Role.LAB: ("lab_tests",),
    Role.ADMIN: ("applications", "audit_check", "directory"),
}
_COMMON_ITEMS = ("notifications", "language", "help", "signout")


def money(minor: int, currency: str, locale: str) -> str:
    whole = minor % 100 == 0  # ₹400, not ₹400.00; ₹12.50 keeps its paise
    amount = minor // 100 if whole else minor / 100
    pattern = "¤#,##,##0" if whole else None
    return format_currency(
        amount, currency, format=pattern, locale=format_locale(locale), currency_digits=not whole
    )


async def ask_main(ctx: Context) -> Prompt:
    items = _ROLE_ITEMS[ctx.user.role] + _COMMON_ITEMS
    return prompt(
        ctx.t(f"menu_{ctx.user.role.value}"),
        options=[Option(item, ctx.t(f"menu_item_{item}")) for item in items],
    )


async def answer_main(ctx: Context, answer: Answer) -> Outcome:
    from conversations.flows import registry  # the registry imports this module

    item = answer.value
    if item and registry.find(item):
        return switch(item)
    if item == "language":
        overlays.open_language(ctx)
        return retry()
    if item == "help":
        return retry(ctx.t("help_signed_in"))
    if item == "signout":
        return next_step("signout")  # a stray "4" must not end the session: ask first
    view = _VIEWS.get(item)
    return retry(await view(ctx)) if view else retry(ctx.t("pick_an_option"))


async def _doctor_details(ctx: Context) -> str:
    """The doctor's registration and where their application stands. With nothing sent yet, or
    after a rejection (shown with its reason), the chat moves into the application to finish or
    correct it and send it again."""
    # Imported here so that this view's change stays within it (the menu is shared by every area).
    from backend.models import VerificationStatus
    from backend.providers.service import ProviderKind
    from conversations.flows import provider_onboarding

    status = await provider_onboarding.status_text(ctx, ProviderKind.DOCTOR)
    doctor = await directory.doctor_of(ctx.session, ctx.user.id)
    if doctor is None or doctor.status is VerificationStatus.REJECTED:
        return status or ctx.t("doctor_no_record")
    details = ctx.t(
        "doctor_details",
        name=doctor.full_name,
        qualification=doctor.qualification,
        council=doctor.council,
        number=doctor.registration_number,
        specialties=specialty_names([s.name for s in doctor.specialties], ctx.locale),
        languages=language_names(doctor.languages, ctx.locale),
        fee=money(doctor.fee_minor, doctor.currency, ctx.locale),
        status=ctx.t(f"status_{doctor.status.value}"),
    )
    return f"{details}\n\n{status}" if status else details


async def _stock(ctx: Context) -> str:
    from backend.models import VerificationStatus
    from backend.providers.service import ProviderKind
    from conversations.flows import provider_onboarding

    pharmacy = await directory.pharmacy_of(ctx.session, ctx.user.id)
    if pharmacy is None or pharmacy.status is not VerificationStatus.VERIFIED:
        # Not verified yet: where the application stands (and, to finish or correct it, into it).
        status = await provider_onboarding.status_text(ctx, ProviderKind.PHARMACY)
        return status or ctx.t("pharmacy_no_record")
    lines = []
    for item in await directory.stock_of(ctx.session, pharmacy.id):
        low = " ⚠️" if item.quantity < directory.LOW_STOCK else ""
        price = money(item.price_minor, item.currency, ctx.locale)
        lines.append(f"• {item.medicine} {item.strength} ({item.form}): {item.quantity} · {price}{low}")
    return ctx.t("pharmacy_stock", name=pharmacy.name, items="\n".join(lines) or "—", low=directory.LOW_STOCK)


async def _lab_tests(ctx: Context) -> str:
    from backend.models import VerificationStatus
    from backend.providers.service import ProviderKind
    from conversations.flows import provider_onboarding

    lab = await directory.lab_of(ctx.session, ctx.user.id)
    if lab is None or lab.status is not VerificationStatus.VERIFIED:
        return await provider_onboarding.status_text(ctx, ProviderKind.LAB) or ctx.t("lab_no_record")
    lines = [
        f"• {test.name} · {test.code}: {money(test.price_minor, test.currency, ctx.locale)},"
        f" {ctx.t('lab_turnaround', hours=test.turnaround_hours)}"
        for test in await directory.tests_of(ctx.session, lab.id)
    ]
    return ctx.t("lab_catalogue", name=lab.name, items="\n".join(lines) or "—")


async def _audit_check(ctx: Context) -> str:
    if not can(ctx.actor, Action.VERIFY_AUDIT, Resource("audit_log")):
        return ctx.t("not_allowed")
    report = await audit.verify_chain(ctx.session)
    await audit.record(
        ctx.session,
        actor=ctx.actor,
        action="verify",
        resource_type="audit_log",
        outcome="ok" if report.ok else "broken",
    )
    if report.ok:
        return ctx.t("audit_ok", entries=report.entries)
    return ctx.t("audit_broken", seq=report.first_bad_seq, reason=report.reason)


async def _directory(ctx: Context) -> str:
    counts = await directory.summary(ctx.session)
    return ctx.t(
        "directory_summary",
        verified=counts.doctors_verified,
        pending=counts.doctors_pending,
        specialties=counts.specialties,
        pharmacies=counts.pharmacies,
        labs=counts.labs,
    )


_VIEWS = {
    "doctor_details": _doctor_details,
    "stock": _stock,
    "lab_tests": _lab_tests,
    "audit_check": _audit_check,
    "directory": _directory,
}


async def ask_signout(ctx: Context) -> Prompt:
    return prompt(
        ctx.t("ask_signout"),
        options=[Option("yes", ctx.t("btn_yes_signout")), Option("no", ctx.t("btn_stay"))],
    )


async def answer_signout(ctx: Context, answer: Answer) -> Outcome:
    if answer.value != "yes":
        return Outcome(goto="main", remember=False)
    await audit.record(
        ctx.session,
        actor=ctx.actor,
        action="sign_out",
        resource_type="channel_identity",
        resource_id=ctx.identity.id,
        channel=ctx.channel,
    )
    ctx.identity.user_id = None
    ctx.user = None
    return switch("signup", ctx.t("signed_out"))


FLOW = Flow(
    name="menu",
    first="main",
    steps={"main": Step(ask_main, answer_main), "signout": Step(ask_signout, answer_signout)},
)
