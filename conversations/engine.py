"""The conversation engine: one inbound message in, the replies out.

For each message, under the chat's lock and in one transaction:
1. record the platform id in the inbox (a redelivery is dropped here);
2. load the chat's identity, user and conversation;
3. run the emergency red-flag matcher on any text, before anything else (what the chat hears
   then, and how the flag is kept: conversations/emergency_replies.py; a mention of the past
   brings no card: the text goes on, with a gentle note);
4. global commands (menu, help, back, cancel, language, stop) and unknown /commands;
4b. a button of a notification we sent (conversations/actions.py), pressed or typed;
5. resolve a tapped button or typed option against the chat's last prompt (stale → re-prompt);
6. give the answer to the current step, move on, and ask the next step's question;
7. save the conversation and commit; then run after-commit work (e.g. deliver an OTP).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from babel.lists import format_list
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import inbox
from backend.access import AccessDenied
from backend.accounts import chats
from backend.accounts.service import identity_for
from backend.crypto import FieldCipher
from backend.models import ChannelIdentity, Conversation, InboxMessage, User, new_id, utcnow
from backend.otp.senders import OtpSender
from backend.outbox import queue as outbox_queue
from backend.outbox import service as outbox
from backend.payments.gateway import Gateways
from backend.settings import Settings
from conversations import actions, commands, emergency_replies, overlays, unbuilt
from conversations.chat_locks import ChatLocks
from conversations.context import Context
from conversations.copy import format_locale, translate
from conversations.emergency import detect_red_flag
from conversations.flow import Answer, Flow, Outcome, Prompt
from conversations.flows import registry
from conversations.messages import Choice, Inbound, InboundKind, Reply
from conversations.recognize import match_choice

log = structlog.get_logger(__name__)

MAX_TEXT_CHARS = 4000
MAX_HISTORY = 20


@dataclass
class Engine:
    sessions: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    settings: Settings
    otp_sender: OtpSender
    # Called after a commit that wrote to the outbox (the app wakes its dispatcher with it).
    on_commit: Callable[[], None] | None = None
    gateways: Gateways | None = None  # payment gateways, for steps that take or return money

    def __post_init__(self) -> None:
        self.locks = ChatLocks()

    # --- entry points ---------------------------------------------------------------------

    async def handle(self, inbound: Inbound, *, stored: bool = False) -> list[Reply]:
        """Process one message; returns the replies to send (empty for a duplicate).

        `stored`: the channel already saved this update in the inbox (store first, then process);
        it is claimed here, in the same transaction as its effects, so it is processed once."""
        async with self.locks.hold(inbound.chat_key):
            try:
                async with self.sessions() as session, session.begin():
                    if inbound.platform_id and not await self._first_delivery(session, inbound, stored):
                        log.info("duplicate_dropped", channel=inbound.channel)
                        return []
                    ctx = await self._load(session, inbound)
                    try:
                        replies = await self._dispatch(ctx)
                    except AccessDenied:
                        # Commit anyway: the refusal's audit entry must survive.
                        replies = [Reply(text=ctx.t("not_allowed"))]
                    await self._release_waiting(ctx)
                    self._save(ctx)
                    wrote_outbox = outbox.outbox_written(session)
            except Exception:
                # Nothing was committed; the user gets a calm message, the log gets the details.
                log.exception("engine_failed", channel=inbound.channel, kind=inbound.kind.value)
                if not (stored and inbound.platform_id):
                    return [Reply(text=_fallback_text())]
                # A stored update is finished as failed, or every restart would run it (and
                # apologise) again; only the call that finished it answers.
                return await self.give_up(
                    inbound.channel, inbound.chat_id, inbound.platform_id, "engine_error", "internal_error"
                )
        if wrote_outbox and self.on_commit:
            self.on_commit()
        for work in ctx.after_commit:
            replies.extend(await work())
        return replies

    async def current_prompt(self, channel: str, chat_id: str) -> list[Reply]:
        """The question the chat is waiting on (a web chat reconnecting, for example)."""
        inbound = Inbound(channel=channel, chat_id=chat_id, kind=InboundKind.TEXT, text="")
        async with self.locks.hold(inbound.chat_key), self.sessions() as session, session.begin():
            ctx = await self._load(session, inbound)
            replies = await self.ask(ctx)
            self._save(ctx)
        return replies

    async def expects_file(self, channel: str, chat_id: str) -> bool:
        """Whether the chat's current step takes a file. The web chat asks before it stores an
        upload, so a chat that is not being asked for one (an anonymous visitor, say) cannot fill
        the disk with files nobody will use. Only read: nothing is saved."""
        inbound = Inbound(channel=channel, chat_id=chat_id, kind=InboundKind.TEXT, text="")
        async with self.locks.hold(inbound.chat_key), self.sessions() as session:
            ctx = await self._load(session, inbound)
            if overlays.active(ctx):
                return False
            return InboundKind.FILE in self._flow(ctx).steps[ctx.conversation.step].accepts

    async def give_up(
        self, channel: str, chat_id: str | None, platform_id: str, reason: str, say: str
    ) -> list[Reply]:
        """Finish a stored update that cannot be handled as failed with `reason` (a code from
        backend.inbox.REASONS, never its content): it is never processed or retried again. The
        chat, when known, gets the message `say` in its language, once: only the call that
        finished the row answers (a redelivery or a second failure says nothing)."""
        try:
            async with self.sessions() as session, session.begin():
                if not await inbox.fail(session, channel, platform_id, reason):
                    return []
        except Exception:  # the database itself is away: the row stays pending for a restart
            log.exception("inbox_fail_failed", channel=channel, reason=reason)
            return [Reply(text=_fallback_text())] if chat_id is not None else []
        log.warning("inbox_failed", channel=channel, reason=reason)
        return await self.apology(channel, chat_id, say)

    async def apology(self, channel: str, chat_id: str | None, say: str) -> list[Reply]:
        """The message `say` in the chat's language (English for a chat without an account)."""
        if chat_id is None:
            return []
        locale = "en"
        try:
            async with self.sessions() as session:  # only read: an unusable update creates no chat
                user = await session.scalar(
                    select(User)
                    .join(ChannelIdentity, ChannelIdentity.user_id == User.id)
                    .where(*chats.is_chat(self.cipher, channel, chat_id))
                )
                locale = user.locale if user is not None else locale
        except Exception:
            log.exception("apology_locale_failed", channel=channel)
        return [Reply(text=translate(locale, say))]

    async def _release_waiting(self, ctx: Context) -> None:
        """The user wrote on this chat (or just signed in on it), so it reaches them: what waited
        for them, having had no chat that could take it, goes out now. A web chat is shown what
        waited as it opens instead (bot/web/notify.py)."""
        if ctx.inbound.channel == "web" or ctx.identity.user_id is None:
            return
        if await outbox_queue.release_waiting(ctx.session, ctx.identity.user_id, due_at=ctx.now):
            outbox.mark_written(ctx.session)

    # --- loading and saving ---------------------------------------------------------------

    async def _first_delivery(self, session: AsyncSession, inbound: Inbound, stored: bool) -> bool:
        platform_id = inbound.platform_id[:128]
        if stored:
            return await inbox.claim(session, inbound.channel, platform_id)
        try:
            async with session.begin_nested():
                session.add(
                    InboxMessage(channel=inbound.channel, platform_id=platform_id, processed_at=utcnow())
                )
        except IntegrityError:
            return False
        return True

    async def _load(self, session: AsyncSession, inbound: Inbound) -> Context:
        identity = await identity_for(session, self.cipher, inbound.channel, inbound.chat_id, lock=True)
        identity.last_seen_at = utcnow()
        user = await session.get(User, identity.user_id) if identity.user_id else None
        if user is not None and not user.active:
            user = None
        conversation = await session.scalar(
            select(Conversation).where(Conversation.identity_id == identity.id)
        )
        data: dict = {}
        if conversation is None:
            first = registry.home(user)
            conversation = Conversation(
                id=new_id(), identity_id=identity.id, flow=first.name, step=first.first, version=0
            )
            session.add(conversation)
        elif conversation.data_enc:
            data = json.loads(
                self.cipher.decrypt("conversations", "data", conversation.id, conversation.data_enc)
            )
        return Context(
            session=session,
            cipher=self.cipher,
            settings=self.settings,
            otp_sender=self.otp_sender,
            identity=identity,
            conversation=conversation,
            data=data,
            user=user,
            inbound=inbound,
            now=inbound.at,
            gateways=self.gateways,
        )

    def _save(self, ctx: Context) -> None:
        conv = ctx.conversation
        conv.data_enc = self.cipher.encrypt(
            "conversations", "data", conv.id, json.dumps(ctx.data, ensure_ascii=False, default=str)
        )
        conv.version += 1
        conv.updated_at = utcnow()

    # --- the pipeline ---------------------------------------------------------------------

    async def _dispatch(self, ctx: Context) -> list[Reply]:
        """Steps 3 to 6 of the module docstring, in that order."""
        flow = self._flow(ctx)
        _heard_from(ctx)
        emergency_note: list[Reply] = []
        marked = False  # the answer carries red-flag words the patient was warned about
        if ctx.inbound.kind is InboundKind.TEXT and (hit := detect_red_flag(ctx.inbound.text)):
            # History only ("heart attack in 2015, now fine") or a doubtful flag ("is phenyl safe
            # for mopping if my baby crawls?") never brings the card: the words answer the step
            # with the gentle note; the doctor sees the kept flag.
            if hit.urgent and not emergency_replies.words_are_an_answer(ctx, flow, hit):
                return await emergency_replies.card(self, ctx, flow, hit, longest_answer=MAX_TEXT_CHARS)
            emergency_note = await emergency_replies.note(ctx, hit)
            marked = hit.urgent
            if marked and not emergency_replies.may_take_the_words(ctx, flow):
                return [*emergency_note, *await self.ask(ctx)]
        # The note stays above whatever answers the words, even "please choose one of the options".
        return [*emergency_note, *await self._to_the_step(ctx, flow, marked)]

    async def _to_the_step(self, ctx: Context, flow: Flow, marked: bool) -> list[Reply]:
        """Steps 4 to 6: what answers a message once the red-flag check let it through."""
        if (answered := await self._before_the_step(ctx, flow)) is not None:
            return answered
        value = _chosen_value(ctx)
        if overlay := overlays.active(ctx):
            return await overlays.answer(self, ctx, overlay, value)
        step = flow.steps[ctx.conversation.step]
        if ctx.inbound.kind not in step.accepts:
            return [Reply(text=ctx.t("cannot_use_here")), *await self.ask(ctx)]
        takes_a_pick = (
            bool(_offered(ctx)) and not step.free_text and ctx.inbound.kind is not InboundKind.CONTACT
        )
        if value is None and takes_a_pick:
            # "order medicines" at a menu: say honestly it is not built yet, and what works today.
            said = unbuilt.answer_key(ctx.inbound.text) or "pick_an_option"
            return [Reply(text=ctx.t(said)), *await self.ask(ctx)]
        answer = Answer(inbound=ctx.inbound, value=value, red_flag=marked)
        return await self.answer_step(ctx, answer)

    async def _before_the_step(self, ctx: Context, flow: Flow) -> list[Reply] | None:
        """The replies for a message that never reaches the current step (steps 4, 4b and the
        stale half of 5), or None when it goes on to the step."""
        inbound = ctx.inbound
        if inbound.kind is InboundKind.TEXT and (said := await self._text_checks(ctx, flow)) is not None:
            return said
        if inbound.kind is InboundKind.CHOICE and actions.is_action_token(inbound.choice_token):
            return await self.apply(ctx, await actions.press(ctx, inbound.choice_token))
        # "retry 417" answers a notification's buttons only when such a button is live for this
        # user; otherwise it is an ordinary answer ("flat 402").
        typed = actions.typed(inbound.text) if inbound.kind is InboundKind.TEXT else None
        if typed and (pressed := await actions.find_typed(ctx, *typed)):
            return await self.apply(ctx, await actions.press_typed(ctx, pressed))
        if ctx.data.get("prompt", {}).get("at") != [ctx.conversation.flow, ctx.conversation.step]:
            # The chat was moved (e.g. signed out) since its last question: ask the current one.
            expired = [Reply(text=ctx.t("choice_expired"))] if inbound.kind is InboundKind.CHOICE else []
            return [*expired, *await self.ask(ctx)]
        if inbound.kind is InboundKind.CHOICE and _tapped_option(ctx) is None:
            return [Reply(text=ctx.t("choice_expired")), *await self.ask(ctx)]
        return None

    async def _text_checks(self, ctx: Context, flow: Flow) -> list[Reply] | None:
        """A text too long, a global command, a language named, an unknown /command, or nothing
        but spaces: answered here, or None for a text that goes on."""
        text = ctx.inbound.text
        if len(text) > MAX_TEXT_CHARS:
            return [Reply(text=ctx.t("too_long", limit=MAX_TEXT_CHARS)), *await self.ask(ctx)]
        if command := commands.parse(text):
            return await commands.run(self, ctx, command)
        if (locale := commands.language_named(text)) and not self._language_is_answer(ctx, flow):
            return await commands.switch_language(self, ctx, locale)
        if commands.looks_like_command(text):
            return [Reply(text=ctx.t("unknown_command")), *await self.ask(ctx)]
        if not text.strip():
            return [Reply(text=ctx.t("empty_message")), *await self.ask(ctx)]
        return None

    async def answer_step(self, ctx: Context, answer: Answer) -> list[Reply]:
        """Give `answer` to the current step and carry out what it decided."""
        step = self._flow(ctx).steps[ctx.conversation.step]
        return await self.apply(ctx, await step.answer(ctx, answer))

    async def apply(self, ctx: Context, outcome: Outcome) -> list[Reply]:
        """Carry out what a step decided, then ask the question of wherever we are now."""
        replies = list(outcome.say)
        conv = ctx.conversation
        if outcome.flow:
            target = registry.get(outcome.flow)
            if conv.flow != target.name:
                came_from = {"flow": conv.flow, "step": conv.step, "form": ctx.data.pop("form", {})}
                came_from["history"] = ctx.data.get("history") or []
                ctx.data["history"] = []
                ctx.data.pop("came_from", None)
                if outcome.returnable:
                    ctx.data["came_from"] = came_from
            conv.flow, conv.step = target.name, outcome.goto or target.first
        elif outcome.goto:
            history = ctx.data.setdefault("history", [])
            if history and history[-1] == outcome.goto:
                history.pop()  # returning to where we came from: "back" should not lead here again
            elif outcome.remember:
                history.append(conv.step)
                del history[:-MAX_HISTORY]
            conv.step = outcome.goto
        return replies + await self.ask(ctx)

    async def ask(self, ctx: Context) -> list[Reply]:
        flow = self._flow(ctx)
        if overlay := overlays.active(ctx):
            return self._render(ctx, overlays.ask(ctx, overlay))
        asked = await flow.steps[ctx.conversation.step].ask(ctx)
        return self._render(ctx, asked)

    def _render(self, ctx: Context, asked: Prompt) -> list[Reply]:
        """Give each option a random token and remember them as the chat's last prompt. Asking the
        same step again keeps its tokens, so the buttons already on screen (another tab, a
        reconnect, a retry) stay valid; any other step gets fresh ones."""
        at = [ctx.conversation.flow, ctx.conversation.step]
        previous = ctx.data.get("prompt") or {}
        if previous.get("at") != at:
            overlays.left_step(ctx)
        kept = (
            {o["value"]: o["token"] for o in previous.get("options", [])} if previous.get("at") == at else {}
        )
        options = [
            {"token": kept.get(o.value) or secrets.token_urlsafe(6), "value": o.value, "label": o.label}
            for o in asked.options
        ]
        ctx.data["prompt"] = {"at": at, "options": options}
        if not asked.texts:
            return []
        replies = [Reply(text=t, private=asked.private) for t in asked.texts[:-1]]
        choices = tuple(Choice(label=o["label"], token=o["token"]) for o in options)
        label = ctx.t(f"request_{asked.request.value}") if asked.request else ""
        hint = ctx.t("reply_with_number", numbers=_numbers(len(choices), ctx.locale)) if choices else ""
        replies.append(
            Reply(
                text=asked.texts[-1],
                choices=choices,
                request=asked.request,
                request_label=label,
                number_hint=hint,
                link=asked.link,
                private=asked.private,
            )
        )
        return replies

    def _flow(self, ctx: Context) -> Flow:
        """The current flow, or home when the saved one no longer fits (e.g. signed out)."""
        conv = ctx.conversation
        flow = registry.find(conv.flow)
        if flow is None or conv.step not in flow.steps or (flow.needs_account and ctx.user is None):
            flow = registry.home(ctx.user)
            conv.flow, conv.step = flow.name, flow.first
            ctx.data.pop("form", None)
            ctx.data["history"] = []
        return flow

    def _language_is_answer(self, ctx: Context, flow: Flow) -> bool:
        step = flow.steps.get(ctx.conversation.step)
        return bool(step and step.language_answer and not overlays.active(ctx))


def _numbers(count: int, locale: str) -> str:
    """ "1, 2, or 3" in the user's language."""
    return format_list([str(n) for n in range(1, count + 1)], style="or", locale=format_locale(locale))


def _heard_from(ctx: Context) -> None:
    """Writing to us again ends a "stop", and proves the chat can be reached (e.g. unblocked)."""
    ctx.identity.muted = False
    ctx.identity.unreachable = False
    ctx.identity.last_inbound_at = ctx.inbound.at


def _offered(ctx: Context) -> list[dict]:
    """The options of the chat's last prompt (token, value, label)."""
    return ctx.data.get("prompt", {}).get("options", [])


def _tapped_option(ctx: Context) -> dict | None:
    return next((o for o in _offered(ctx) if o["token"] == ctx.inbound.choice_token), None)


def _chosen_value(ctx: Context) -> str | None:
    """The value of the option tapped, or typed (its number, label or a near spelling); None for a
    text that names no option."""
    if ctx.inbound.kind is InboundKind.CHOICE:
        return _tapped_option(ctx)["value"]  # a token not offered was answered before the step
    offered = _offered(ctx)
    if ctx.inbound.kind is InboundKind.TEXT and offered:
        index = match_choice(ctx.inbound.text, [o["label"] for o in offered])
        return offered[index]["value"] if index is not None else None
    return None


def _fallback_text() -> str:
    return translate("en", "internal_error")
