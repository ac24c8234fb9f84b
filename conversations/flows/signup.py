"""Signup and sign-in.

New patient: consent → name → date of birth → sex → phone or email → OTP → language → timezone.
Returning user on a new chat: phone or email → OTP → linked to their account. A verified
contact that already belongs to an account links this chat to it, and never before the OTP.
New doctor, pharmacy or lab: which one → consent → phone or email → OTP → language → timezone →
an account with that role, then their application (doctor_onboarding / provider_onboarding).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo, available_timezones

from rapidfuzz import process
from sqlalchemy.exc import IntegrityError

from backend import audit
from backend.accounts import service as accounts
from backend.accounts.contacts import InvalidContact, looks_like_email, mask, normalise_email, normalise_phone
from backend.models import User
from backend.otp import service as otp
from backend.otp.limits import SendLimits
from backend.otp.senders import OtpDeliveryError
from conversations.context import Context
from conversations.copy import LANGUAGES
from conversations.flow import (
    Answer,
    Flow,
    Option,
    Outcome,
    Prompt,
    Step,
    next_step,
    prompt,
    retry,
    say,
    switch,
)
from conversations.flows import consent
from conversations.flows.signup_form import (
    PROVIDER_ROLES,
    contact_is_verified,
    contact_key,
    joining_as_provider,
)
from conversations.messages import InboundKind, Reply, RequestKind
from conversations.otp_refusals import locked_text, refusal_text

PURPOSE = "account"
SEXES = ("female", "male", "other", "undisclosed")
COMMON_TIMEZONES = (
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Dubai",
    "Asia/Singapore",
    "Europe/London",
    "America/New_York",
)
_DATE_FORMATS = (
    "%d-%m-%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y-%m-%d",
    "%d %m %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
)
_NAME_PUNCTUATION = set(" '’.-")


# --- welcome --------------------------------------------------------------------------------


async def ask_welcome(ctx: Context) -> Prompt:
    other = next(code for code in LANGUAGES if code != ctx.locale)
    return prompt(
        ctx.t("welcome"),
        options=[
            Option("signup", ctx.t("btn_signup")),
            Option("signin", ctx.t("btn_signin")),
            Option("provider", ctx.t("btn_join_as_provider")),
            Option(f"lang:{other}", LANGUAGES[other]),
        ],
    )


async def answer_welcome(ctx: Context, answer: Answer) -> Outcome:
    if answer.value and answer.value.startswith("lang:"):
        ctx.locale = answer.value.removeprefix("lang:")
        return retry()
    ctx.form["mode"] = answer.value
    if answer.value == "provider":
        return next_step("provider_kind")
    return next_step("consent" if answer.value == "signup" else "contact")


# --- joining as a doctor, pharmacy or lab ------------------------------------------------------

# Where a new provider account goes next: its application.
PROVIDER_FLOWS = {
    "doctor": "doctor_onboarding",
    "pharmacy": "provider_onboarding",
    "lab": "provider_onboarding",
}


async def ask_provider_kind(ctx: Context) -> Prompt:
    return prompt(
        ctx.t("ask_provider_kind"),
        options=[Option(kind, ctx.t(f"btn_join_as_{kind}")) for kind in PROVIDER_ROLES],
    )


async def answer_provider_kind(ctx: Context, answer: Answer) -> Outcome:
    ctx.form["provider_kind"] = answer.value
    return next_step("consent")


# --- personal details (the consent step before them: conversations/flows/consent.py) ---------


async def ask_name(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_name"))


def clean_name(text: str) -> str | None:
    """Letters of any script (with their combining marks, e.g. Devanagari vowel signs), spaces,
    apostrophes, dots and hyphens; no digits, symbols or emoji."""
    name = " ".join(text.split())
    if not 2 <= len(name) <= 100 or not unicodedata.category(name[0]).startswith("L"):
        return None
    if all(unicodedata.category(ch)[0] in "LM" or ch in _NAME_PUNCTUATION for ch in name):
        return name
    return None


async def answer_name(ctx: Context, answer: Answer) -> Outcome:
    name = clean_name(answer.text)
    if name is None:
        return retry(ctx.t("name_invalid"))
    ctx.form["name"] = name
    return next_step("dob")


async def ask_dob(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_dob"))


def parse_birth_date(text: str) -> date | None:
    cleaned = " ".join(text.replace(",", " ").split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


async def answer_dob(ctx: Context, answer: Answer) -> Outcome:
    born = parse_birth_date(answer.text[:40])
    if born is None:
        return retry(ctx.t("dob_invalid"))
    today = ctx.now.date()
    if born > today:
        return retry(ctx.t("dob_future"))
    if today.year - born.year > 120:
        return retry(ctx.t("dob_too_old"))
    ctx.form["dob"] = born.isoformat()
    return next_step("sex")


async def ask_sex(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_sex"), options=[Option(s, ctx.t(f"sex_{s}")) for s in SEXES])


async def answer_sex(ctx: Context, answer: Answer) -> Outcome:
    ctx.form["sex"] = answer.value
    # Someone who proved their contact while signing in already has it: skip straight on.
    return next_step("language" if contact_is_verified(ctx) else "contact")


# --- contact and OTP ----------------------------------------------------------------------


# Channels whose chat address is the user's phone number, proven by the platform (WhatsApp: the
# message came from that number), so it can be used as a verified contact without a code.
PHONE_ADDRESSED_CHANNELS = frozenset({"whatsapp"})


async def ask_contact(ctx: Context) -> Prompt:
    if ctx.channel in PHONE_ADDRESSED_CHANNELS:
        return prompt(ctx.t("ask_contact"), options=[Option("this_number", ctx.t("btn_use_this_number"))])
    return prompt(ctx.t("ask_contact"), request=RequestKind.CONTACT)


async def answer_contact(ctx: Context, answer: Answer) -> Outcome:
    if answer.inbound.kind is InboundKind.CONTACT:
        return await _platform_contact(ctx, answer.inbound.contact_phone)
    if answer.value == "this_number" and ctx.channel in PHONE_ADDRESSED_CHANNELS:
        return await _platform_contact(ctx, answer.inbound.chat_id)
    raw = answer.text
    if not looks_like_email(raw) and not any(ch.isdigit() for ch in raw):
        return retry(ctx.t("contact_invalid"))
    try:
        if looks_like_email(raw):
            kind, value = "email", normalise_email(raw)
        else:
            kind, value = "phone", normalise_phone(raw, ctx.settings.default_region)
    except InvalidContact as bad:
        return retry(ctx.t(bad.reason))
    if not ctx.otp_sender.supports(kind):
        return retry(ctx.t("sms_unavailable"))
    refused = await _send_code(ctx, kind, value)
    if refused:
        return retry(refused)
    # A new contact must be proven again, whatever was verified before.
    ctx.form.pop("verified_contact", None)
    ctx.form.update(contact_kind=kind, contact=value)
    # The same words whether or not the contact belongs to an account (no enumeration).
    return next_step("otp", ctx.t("otp_on_its_way", destination=mask(kind, value)))


async def _platform_contact(ctx: Context, phone: str | None) -> Outcome:
    """A phone number the platform vouches for (Telegram: the sender's own shared contact). The
    platform proved the number belongs to this account, so it counts as verified, like an OTP."""
    if not phone:
        return retry(ctx.t("contact_not_yours"))
    try:
        value = normalise_phone(phone if phone.startswith("+") else f"+{phone}", ctx.settings.default_region)
    except InvalidContact as bad:
        return retry(ctx.t(bad.reason))
    ctx.form.update(contact_kind="phone", contact=value)
    await audit.record(
        ctx.session,
        actor=None,
        action="platform_contact",
        resource_type="channel_identity",
        resource_id=ctx.identity.id,
        channel=ctx.channel,
    )
    return await _verified(ctx, "phone", value)


async def _send_code(ctx: Context, kind: str, value: str) -> str | None:
    """Issue a code and deliver it after commit; returns the refusal message, if any."""
    issued = await otp.issue(
        ctx.session,
        ctx.cipher,
        purpose=PURPOSE,
        kind=kind,
        destination=value,
        chat_key=ctx.inbound.chat_key,
        now=ctx.now,
        limits=SendLimits.from_settings(ctx.settings),
        client=ctx.inbound.client_address,
    )
    if issued.code is None:
        return refusal_text(ctx, issued)
    code, chat_key, sender = issued.code, ctx.inbound.chat_key, ctx.otp_sender
    message = ctx.t("otp_message", code=code, minutes=int(otp.TTL.total_seconds() // 60))
    failed = ctx.t("otp_delivery_failed")

    async def deliver() -> list[Reply]:
        try:
            await sender.send(kind=kind, destination=value, code=code, chat_key=chat_key, message=message)
        except OtpDeliveryError:
            return [Reply(text=failed)]
        return []

    ctx.after_commit.append(deliver)
    return None


async def ask_otp(ctx: Context) -> Prompt:
    masked = mask(ctx.form.get("contact_kind", "phone"), ctx.form.get("contact", ""))
    return prompt(
        ctx.t("ask_otp", destination=masked),
        options=[Option("resend", ctx.t("btn_resend")), Option("change", ctx.t("btn_change_contact"))],
    )


async def answer_otp(ctx: Context, answer: Answer) -> Outcome:
    kind, value = ctx.form.get("contact_kind"), ctx.form.get("contact")
    if not kind or not value:
        return Outcome(goto="contact", remember=False)
    if answer.value == "resend":
        refused = await _send_code(ctx, kind, value)
        return retry(refused or ctx.t("otp_resent"))
    if answer.value == "change":
        return Outcome(goto="contact", remember=False)
    code = re.sub(r"[\s-]", "", answer.text)
    if not re.fullmatch(r"\d{6}", code):
        return retry(ctx.t("otp_format"))
    sender = ctx.otp_sender
    external = None
    if sender.checks_codes(kind):  # e.g. Twilio Verify made the code: it checks it too

        async def external() -> bool:
            return await sender.check(kind=kind, destination=value, code=code)

    try:
        result = await otp.verify(
            ctx.session,
            ctx.cipher,
            purpose=PURPOSE,
            kind=kind,
            destination=value,
            chat_key=ctx.inbound.chat_key,
            code=code,
            now=ctx.now,
            external_check=external,
        )
    except OtpDeliveryError:
        return retry(ctx.t("otp_check_failed"))
    if result.outcome is otp.VerifyOutcome.OK:
        return await _verified(ctx, kind, value)
    if result.outcome is otp.VerifyOutcome.CONTACT_LOCKED and result.locked_until is not None:
        return retry(locked_text(ctx, result.locked_until))
    if result.outcome is otp.VerifyOutcome.WRONG:
        key = "otp_wrong_last" if result.attempts_left == 1 else "otp_wrong"
        return retry(ctx.t(key, left=result.attempts_left))
    return retry(ctx.t(f"otp_{result.outcome.value}"))


async def _verified(ctx: Context, kind: str, value: str) -> Outcome:
    existing = await accounts.find_user_by_contact(ctx.session, ctx.cipher, kind, value)
    if existing is not None:
        return await _link_existing(ctx, existing)
    ctx.form["verified_contact"] = contact_key(kind, value)
    _forget_contact_steps(ctx)
    if ctx.form.get("mode") == "signin":
        ctx.form["mode"] = "signup"
        return Outcome(say=say(ctx.t("no_account_yet")), goto="consent", remember=False)
    return Outcome(say=say(ctx.t("contact_verified")), goto="language", remember=False)


def _forget_contact_steps(ctx: Context) -> None:
    """After the OTP, "back" skips the contact and code steps: the code is used up."""
    history = ctx.data.get("history") or []
    while history and history[-1] in ("otp", "contact"):
        history.pop()


async def _link_existing(ctx: Context, user) -> Outcome:
    # Someone who typed a name and birth date for a new account must hear that they were not used.
    typed_details = ctx.form.get("mode") == "signup" and ctx.form.get("name")
    joining = ctx.form.get("mode") == "provider"
    kind = ctx.t("word_email") if ctx.form.get("contact_kind") == "email" else ctx.t("word_phone")
    await accounts.link_identity(ctx.session, ctx.identity, user)
    ctx.user = user
    if joining:
        # One account per contact: the application is refused and this chat signs in to the
        # account that already has it, as for a patient signing up again.
        return switch("menu", ctx.t("provider_contact_taken", kind=kind))
    if typed_details:
        return switch("menu", ctx.t("welcome_back_details_unused", kind=kind))
    return switch("menu", ctx.t("welcome_back"))


# --- language, timezone, and the account itself -----------------------------------------------


async def ask_language(ctx: Context) -> Prompt:
    return prompt(ctx.t("ask_language"), options=[Option(code, label) for code, label in LANGUAGES.items()])


async def answer_language(ctx: Context, answer: Answer) -> Outcome:
    ctx.locale = answer.value
    return next_step("timezone")


def resolve_timezone(text: str) -> str | None:
    """`Asia/Kolkata`, `kolkata`, `new york`, `london` → an IANA zone name, else None."""
    wanted = text.strip().replace(" ", "_").casefold()
    if not wanted or len(wanted) > 64:
        return None
    zones = {z.casefold(): z for z in available_timezones() if "/" in z}
    if wanted in zones:
        return zones[wanted]
    by_city = {z.rsplit("/", 1)[-1].casefold(): z for z in zones.values()}
    if wanted in by_city:
        return by_city[wanted]
    best = process.extractOne(wanted, list(by_city), score_cutoff=88)
    return by_city[best[0]] if best else None


async def ask_timezone(ctx: Context) -> Prompt:
    options = [
        Option(z, ctx.t("tz_label", city=z.rsplit("/", 1)[-1].replace("_", " "))) for z in COMMON_TIMEZONES
    ]
    return prompt(ctx.t("ask_timezone"), options=options)


async def answer_timezone(ctx: Context, answer: Answer) -> Outcome:
    zone = answer.value or resolve_timezone(answer.text)
    if zone is None:
        return retry(ctx.t("timezone_unknown"))
    ZoneInfo(zone)  # a value we offered or resolved: always valid
    ctx.form["timezone"] = zone
    return await _create_account(ctx)


async def _create_account(ctx: Context) -> Outcome:
    form = ctx.form
    if not contact_is_verified(ctx):
        return Outcome(goto="contact", remember=False)
    if joining_as_provider(ctx):
        return await _create_provider(ctx)
    required = ("consent_at", "name", "dob", "sex", "contact_kind", "contact")
    missing = next((field for field in required if not form.get(field)), None)
    if missing is not None:
        # Only reachable by an odd path (e.g. "back" after verifying): ask what is missing.
        step = {"consent_at": "consent", "contact_kind": "contact"}.get(missing, missing)
        return Outcome(goto=step, remember=False)
    new = accounts.NewPatient(
        full_name=form["name"],
        birth_date=date.fromisoformat(form["dob"]),
        sex=form["sex"],
        contact_kind=form["contact_kind"],
        contact=form["contact"],
        locale=ctx.locale,
        timezone=form["timezone"],
        consent_version=form["consent_version"],
        consent_at=datetime.fromisoformat(form["consent_at"]),
        channel=ctx.channel,
    )
    made = await _open_account(ctx, accounts.create_patient, new)
    if isinstance(made, Outcome):
        return made
    return switch("menu", ctx.t("signup_done", name=new.full_name))


async def _create_provider(ctx: Context) -> Outcome:
    form = ctx.form
    if not form.get("consent_at"):
        return Outcome(goto="consent", remember=False)
    kind = form["provider_kind"]
    new = accounts.NewProvider(
        role=PROVIDER_ROLES[kind],
        contact_kind=form["contact_kind"],
        contact=form["contact"],
        locale=ctx.locale,
        timezone=form["timezone"],
        consent_version=form["consent_version"],
        consent_at=datetime.fromisoformat(form["consent_at"]),
        channel=ctx.channel,
    )
    made = await _open_account(ctx, accounts.create_provider, new)
    if isinstance(made, Outcome):
        return made
    return switch(PROVIDER_FLOWS[kind], ctx.t(f"provider_account_created_{kind}"))


async def _open_account(ctx: Context, create, new) -> User | Outcome:
    """Create the account and link this chat to it. If the same contact was registered a moment
    ago from another chat, that account wins: this chat joins it (the Outcome says so)."""
    try:
        async with ctx.session.begin_nested():
            user = await create(ctx.session, ctx.cipher, new)
    except IntegrityError:
        existing = await accounts.find_user_by_contact(ctx.session, ctx.cipher, new.contact_kind, new.contact)
        if existing is None:
            raise
        return await _link_existing(ctx, existing)
    await accounts.link_identity(ctx.session, ctx.identity, user)
    ctx.user = user
    return user


FLOW = Flow(
    name="signup",
    first="welcome",
    needs_account=False,
    steps={
        "welcome": Step(ask_welcome, answer_welcome),
        "provider_kind": Step(ask_provider_kind, answer_provider_kind),
        "consent": Step(consent.ask_consent, consent.answer_consent),
        "declined": Step(consent.ask_declined, consent.answer_declined),
        "name": Step(ask_name, answer_name),
        "dob": Step(ask_dob, answer_dob),
        "sex": Step(ask_sex, answer_sex),
        "contact": Step(
            ask_contact,
            answer_contact,
            accepts=frozenset({InboundKind.TEXT, InboundKind.CONTACT}),
            free_text=True,  # a typed number or email, or (WhatsApp) the "use this number" option
        ),
        "otp": Step(ask_otp, answer_otp, free_text=True),
        "language": Step(ask_language, answer_language, language_answer=True),
        "timezone": Step(ask_timezone, answer_timezone, free_text=True),
    },
)
