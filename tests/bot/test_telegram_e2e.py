"""Telegram end to end: real webhook requests into the app, aiogram talking to the fake Bot API.

Every call the bot makes is checked by the fake against the Bot API spec (api.json)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import select

from backend.accounts.chats import is_chat, new_identity
from backend.models import (
    ChannelIdentity,
    FileGrant,
    InboxMessage,
    OutboxMessage,
    OutboxStatus,
    StoredFile,
    User,
)
from bot.app import create_app
from bot.telegram.settings import TelegramMode, TelegramSettings
from tests.chat import RecordingOtpSender
from tests.fakes.telegram_api import FakeTelegram
from tests.keys import run_cipher
from tests.notifications.helpers import nudge_through_app

SECRET = "s3cret-Token_for-tests"
_update_ids = itertools.count(10_000)


@dataclass
class Harness:
    fake: FakeTelegram
    app: object
    http: httpx.AsyncClient
    otp: RecordingOtpSender

    @property
    def channel(self):
        return self.app.state.telegram

    def user(self, user_id: int) -> TelegramUser:
        return TelegramUser(self, user_id)


@dataclass
class TelegramUser:
    h: Harness
    id: int
    seen: int = 0
    last_update: dict = field(default_factory=dict)

    async def post(self, update: dict, secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await self.h.http.post("/webhooks/telegram", json=update, headers=headers)
        await self.h.channel.idle()
        return response

    def _message(self, **fields) -> dict:
        update = {
            "update_id": next(_update_ids),
            "message": {
                "message_id": next(_update_ids),
                "date": 1_700_000_000,
                "chat": {"id": self.id, "type": "private", "first_name": "Asha"},
                "from": {"id": self.id, "is_bot": False, "first_name": "Asha"},
                **fields,
            },
        }
        self.last_update = update
        return update

    async def say(self, text: str) -> list[dict]:
        await self.post(self._message(text=text))
        return self.new()

    async def share_contact(self, *, own: bool = True) -> list[dict]:
        contact = {"phone_number": "919876543210", "first_name": "Asha", "user_id": self.id if own else 999}
        await self.post(self._message(contact=contact))
        return self.new()

    async def up_to_contact(self, name: str, dob: str, sex: str) -> list[dict]:
        """From /start to the contact step, as a new patient; returns the contact prompt."""
        await self.say("/start")
        await self.press("sign up")
        await self.press("I agree")
        await self.say(name)
        await self.say(dob)
        return await self.press(sex)

    def sent(self) -> list[dict]:
        """Everything the bot sent into this chat, in order (successful sendMessage/sendDocument)."""
        return [
            {**call.params, "message_id": call.response["result"]["message_id"]}
            for call in self.h.fake.calls
            if call.ok
            and call.method in ("sendMessage", "sendDocument")
            and call.params.get("chat_id") == self.id
        ]

    def new(self) -> list[dict]:
        messages = self.sent()
        fresh, self.seen = messages[self.seen :], len(messages)
        return fresh

    def text(self) -> str:
        return "\n".join(m.get("text", m.get("caption", "")) for m in self.sent())

    def button(self, label_part: str) -> tuple[int, str]:
        for message in reversed(self.sent()):
            markup = message.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:  # URL buttons (a checkout) open a page: nothing to press here
                    if "callback_data" in button and label_part.casefold() in button["text"].casefold():
                        return message["message_id"], button["callback_data"]
        raise AssertionError(f"no button with {label_part!r}")

    async def press(self, label_part: str, *, button: tuple[int, str] | None = None) -> list[dict]:
        message_id, data = button or self.button(label_part)
        update = {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": f"cq{next(_update_ids)}",
                "from": {"id": self.id, "is_bot": False, "first_name": "Asha"},
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": 1_700_000_000,
                    "chat": {"id": self.id, "type": "private", "first_name": "Asha"},
                },
            },
        }
        self.last_update = update
        await self.post(update)
        return self.new()


def _telegram_settings(fake: FakeTelegram, mode: TelegramMode = TelegramMode.WEBHOOK) -> TelegramSettings:
    return TelegramSettings(
        _env_file=None,
        bot_token=fake.token,
        mode=mode,
        webhook_secret=SECRET,
        api_base_url=fake.base_url,
        per_chat_per_second=200,
        per_bot_per_second=1000,
    )


@pytest.fixture
async def fake():
    async with FakeTelegram(
        per_chat_rate=200, per_chat_burst=50, per_bot_rate=1000, per_bot_burst=200
    ) as server:
        yield server


@pytest.fixture
async def harness(settings, fake):
    app = create_app(settings, _telegram_settings(fake))
    otp = RecordingOtpSender()
    app.state.engine.otp_sender = otp
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Harness(fake, app, http, otp)


def _refused_calls(fake: FakeTelegram) -> list:
    return [call for call in fake.calls if not call.ok]


async def test_a_patient_signs_up_with_a_shared_contact_edits_the_profile_and_reaches_the_menu(harness):
    asha = harness.user(5001)
    welcome = await asha.say("/start")
    assert "Welcome to telecare" in welcome[-1]["text"] and welcome[-1]["parse_mode"] == "HTML"
    await asha.press("sign up")
    await asha.press("I agree")
    await asha.say("Asha Verma")
    await asha.say("23-04-1990")
    contact_prompt = await asha.press("Female")
    keyboard = contact_prompt[-1]["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True
    await asha.share_contact()
    assert "Confirmed" in asha.text()
    await asha.press("English")
    await asha.press("Kolkata")
    assert "You're all set, Asha Verma" in asha.text()
    await asha.press("My medical profile")
    await asha.press("Allergies")
    await asha.press("Add")
    await asha.say("Penicillin <b>& dust</b>")
    last = asha.sent()[-1]
    assert "Penicillin &lt;b&gt;&amp; dust&lt;/b&gt;" in last["text"], "user text is escaped"
    # Every call was valid for the Bot API, every button press was answered and its keyboard removed.
    assert _refused_calls(harness.fake) == []
    presses = 8
    assert len(harness.fake.calls_to("answerCallbackQuery")) == presses
    assert len(harness.fake.calls_to("editMessageReplyMarkup")) == presses
    for call in harness.fake.calls_to("sendMessage"):
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
            assert all(len(b["callback_data"].encode()) <= 64 for b in row)
    async with harness.app.state.sessions() as session:
        user = await session.scalar(select(User))
        assert user is not None and user.phone_bidx is not None


async def test_signup_on_telegram_with_an_email_code(harness):
    ravi = harness.user(5002)
    await ravi.up_to_contact("Ravi Kumar", "01-02-1985", "Male")
    await ravi.say("ravi@example.com")
    assert "code is on its way" in ravi.text()
    await ravi.say(harness.otp.last_code())
    await ravi.press("हिन्दी")
    await ravi.press("Kolkata")
    assert any("\u0900" <= ch <= "\u097f" for ch in ravi.sent()[-1]["text"]), "the menu is in Hindi"


async def test_someone_elses_contact_is_not_accepted(harness):
    mallory = harness.user(5003)
    await mallory.up_to_contact("Mallory", "01-01-1990", "Male")
    replies = await mallory.share_contact(own=False)
    assert "your own contact" in replies[0]["text"]


async def test_a_forged_or_missing_secret_is_refused_and_nothing_happens(harness):
    eve = harness.user(5004)
    for secret in ("wrong", "", None, SECRET + "x"):
        response = await eve.post(eve._message(text="/start"), secret=secret)
        assert response.status_code == 401
    assert harness.fake.calls == []
    async with harness.app.state.sessions() as session:
        assert (await session.scalars(select(InboxMessage))).all() == []


async def test_malformed_webhook_bodies_are_rejected(harness):
    for body in (b"not json", b"[]", b'{"update_id": "x"}'):
        response = await harness.http.post(
            "/webhooks/telegram",
            content=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": "application/json"},
        )
        assert response.status_code == 400


async def test_a_redelivered_update_is_answered_once(harness):
    asha = harness.user(5005)
    update = asha._message(text="/start")
    first = await asha.post(update)
    second = await asha.post(update)
    assert first.status_code == second.status_code == 200
    assert len(asha.new()) == 1


async def test_a_stale_button_gets_the_current_prompt(harness):
    asha = harness.user(5006)
    await asha.say("/start")
    old = asha.button("sign up")
    await asha.press("sign up")
    replies = await asha.press("sign up", button=old)
    assert "expired" in replies[0]["text"]
    assert "agree" in replies[-1]["text"].lower()
    assert len(harness.fake.calls_to("answerCallbackQuery")) == 2, "a stale press is answered too"


async def test_a_blocked_user_is_marked_unreachable_and_not_sent_to(harness):
    asha = harness.user(5007)
    await asha.say("/start")
    harness.fake.block(5007)
    await asha.press("sign up")  # the reply hits 403
    async with harness.app.state.sessions() as session:
        identity = await session.scalar(
            select(ChannelIdentity).where(*is_chat(run_cipher(), "telegram", "5007"))
        )
        assert identity.unreachable is True
    refused = len(_refused_calls(harness.fake))
    # Unblocking and writing again proves the chat is reachable again.
    harness.fake.unblock(5007)
    replies = await asha.say("help")
    assert replies and "menu, back, cancel" in replies[0]["text"]
    assert len(_refused_calls(harness.fake)) == refused


async def test_a_429_storm_is_waited_out_and_everything_arrives_in_order(harness):
    asha = harness.user(5008)
    harness.fake.fail_next("sendMessage", status=429, description="Too Many Requests: retry after 1", times=2)
    replies = await asha.say("/start")
    assert len(replies) == 1 and "Welcome" in replies[0]["text"]
    statuses = [c.status for c in harness.fake.calls_to("sendMessage")]
    assert statuses == [429, 429, 200]
    waits = [c.time for c in harness.fake.calls_to("sendMessage")]
    assert waits[1] - waits[0] >= 0.9 and waits[2] - waits[1] >= 0.9, "retry_after was honoured"


async def test_server_errors_are_retried(harness):
    asha = harness.user(5009)
    harness.fake.fail_next("sendMessage", status=502, description="Bad Gateway")
    replies = await asha.say("/start")
    assert "Welcome" in replies[0]["text"]


async def test_documents_from_users_are_fetched_and_stored_encrypted(harness):
    asha = harness.user(5010)
    await asha.say("/start")
    file_id = harness.fake.add_file(b"%PDF-1.4 licence of Dr Asha", "documents/licence.pdf")
    document = {"file_id": file_id, "file_unique_id": "u1", "file_name": "licence.pdf", "file_size": 27}
    await asha.post(asha._message(document=document))
    assert "can't use that here" in asha.text(), "no step asks for a file yet"
    async with harness.app.state.sessions() as session:
        stored = await session.scalar(select(StoredFile))
        assert stored.size == 27 and b"licence" not in stored.content_enc
        cipher = harness.app.state.cipher
        assert cipher.decrypt_bytes("stored_files", "content", stored.id, stored.content_enc).startswith(
            b"%PDF"
        )


async def test_the_health_summary_is_sent_as_a_document(harness):
    asha = harness.user(5011)
    await asha.up_to_contact("Asha Verma", "23-04-1990", "Female")
    await asha.share_contact()
    await asha.press("English")
    await asha.press("Kolkata")
    await asha.press("My medical profile")
    await asha.press("Download")
    (upload,) = harness.fake.calls_to("sendDocument")
    assert upload.ok and upload.files, "the file itself is uploaded, not a link"
    (part,) = upload.files.values()
    assert part.filename == "health-summary.html" and b"Asha Verma" in part.data
    async with harness.app.state.sessions() as session:
        grant = await session.scalar(select(FileGrant))
    assert grant.channel == "telegram" and grant.downloads == 1, "made for this chat, opened in process"


async def test_updates_stored_before_a_crash_are_processed_on_start(settings, fake):
    first = create_app(settings, _telegram_settings(fake))
    async with first.router.lifespan_context(first):
        update = {
            "update_id": next(_update_ids),
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": 6001, "type": "private"},
                "from": {"id": 6001, "is_bot": False, "first_name": "A"},
                "text": "/start",
            },
        }
        assert await first.state.telegram.accept(update)  # stored and acknowledged; then "crash"
    assert fake.calls_to("sendMessage") == []
    second = create_app(settings, _telegram_settings(fake))
    async with second.router.lifespan_context(second):
        await second.state.telegram.idle()
    (sent,) = fake.calls_to("sendMessage")
    assert sent.params["chat_id"] == 6001 and "Welcome" in sent.params["text"]


async def test_polling_mode(settings, fake):
    def message(text: str) -> dict:
        return {
            "message": {
                "message_id": next(_update_ids),
                "date": 1_700_000_000,
                "chat": {"id": 7001, "type": "private", "first_name": "P"},
                "from": {"id": 7001, "is_bot": False, "first_name": "P"},
                "text": text,
            }
        }

    async def replies(count: int) -> None:
        for _ in range(200):
            if len(fake.calls_to("sendMessage")) >= count:
                return
            await asyncio.sleep(0.05)

    app = create_app(settings, _telegram_settings(fake, TelegramMode.POLLING))
    async with app.router.lifespan_context(app):
        fake.push_update(message("/start"))
        await replies(1)
        fake.push_update(message("help"))
        await replies(3)
        await app.state.telegram.idle()
    sent = fake.calls_to("sendMessage")
    assert "Welcome" in sent[0].params["text"] and "menu, back, cancel" in sent[1].params["text"]
    answered = [c for c in fake.calls_to("getUpdates") if c.response and c.response.get("result")]
    assert answered[0].params.get("offset") is None
    assert answered[1].params["offset"] == answered[0].response["result"][0]["update_id"] + 1, "confirmed"


async def test_the_channel_is_off_without_a_token(settings):
    app = create_app(settings, TelegramSettings(_env_file=None))
    assert app.state.telegram is None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post("/webhooks/telegram", json={"update_id": 1})
    assert response.status_code == 404


async def _telecare(env: dict, *args: str) -> tuple[int, str, str]:
    import os
    import sys
    from pathlib import Path

    command = str(Path(sys.executable).parent / "telecare")
    process = await asyncio.create_subprocess_exec(
        command,
        *args,
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("TELECARE_", "TELEGRAM_"))}, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode(), err.decode()


async def test_cli_sets_the_webhook_and_the_commands(fake, tmp_path):
    env = {
        "TELECARE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "TELECARE_KEY_FILE": str(tmp_path / "keys.json"),
        "TELECARE_PUBLIC_BASE_URL": "https://clinic.example",
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
    }
    code, _out, err = await _telecare(env, "telegram", "set-webhook")
    assert code == 0, err
    assert fake.webhook["url"] == "https://clinic.example/webhooks/telegram"
    assert fake.webhook["secret_token"] == SECRET
    assert fake.webhook["allowed_updates"] == ["message", "callback_query"]
    code, _out, err = await _telecare(env, "telegram", "set-commands")
    assert code == 0, err
    commands = [c["command"] for c in fake.calls_to("setMyCommands")[-1].params["commands"]]
    assert commands == ["start", "menu", "help", "back", "cancel", "language", "stop"]
    assert all(call.ok for call in fake.calls)


async def test_cli_without_a_token_says_so(tmp_path):
    code, _out, err = await _telecare(
        {"TELECARE_KEY_FILE": str(tmp_path / "k.json")}, "telegram", "set-webhook"
    )
    assert code == 1 and "TELEGRAM_BOT_TOKEN" in err and "Traceback" not in err


# --- notifications ---------------------------------------------------------------------------


async def _signed_up(asha: TelegramUser) -> None:
    await asha.up_to_contact("Asha Verma", "23-04-1990", "Female")
    await asha.share_contact()
    await asha.press("English")
    await asha.press("Kolkata")


async def _settled_row(harness: Harness, row_id: str) -> OutboxMessage:
    for _ in range(200):
        async with harness.app.state.sessions() as session:
            row = await session.get(OutboxMessage, row_id)
        if row.status not in (OutboxStatus.PENDING, OutboxStatus.CLAIMED):
            return row
        await asyncio.sleep(0.02)
    raise AssertionError(f"outbox row still {row.status}")


async def test_a_notification_arrives_as_html_with_a_button_that_acts(harness):
    asha = harness.user(5101)
    await _signed_up(asha)
    row = await _settled_row(harness, await nudge_through_app(harness.app, "tg:1", name="Asha <b>&</b>"))
    notice = next(m for m in asha.sent() if "better advice" in m.get("text", ""))
    assert notice["parse_mode"] == "HTML" and "Asha &lt;b&gt;&amp;&lt;/b&gt;" in notice["text"]
    message_id, data = asha.button("Complete my profile")
    assert data.startswith("n.") and len(data.encode()) <= 64
    assert (row.status, row.channel, row.platform_message_id) == (
        OutboxStatus.SENT,
        "telegram",
        str(message_id),
    )
    await asha.press("Complete my profile")
    assert "Let's add to your medical profile." in asha.text()
    assert _refused_calls(harness.fake) == []


async def test_a_blocked_bot_passes_the_notification_to_the_users_next_chat(harness):
    asha = harness.user(5102)
    await _signed_up(asha)
    async with harness.app.state.sessions() as session, session.begin():
        user = await session.scalar(select(User))
        session.add(new_identity(run_cipher(), "web", "w" * 64, user_id=user.id))
    harness.fake.block(5102)
    row = await _settled_row(harness, await nudge_through_app(harness.app, "tg:2"))
    # Telegram refused (403): the chat is marked unreachable and the web chat keeps it until it opens.
    assert (row.status, row.channel, row.delivery_status) == (OutboxStatus.SENT, "web", "waiting")
    async with harness.app.state.sessions() as session:
        telegram = await session.scalar(select(ChannelIdentity).where(ChannelIdentity.channel == "telegram"))
    assert telegram.unreachable is True


async def test_a_message_that_waited_for_any_chat_goes_out_on_the_chat_the_user_signs_in_on(harness):
    from tests.e2e.journeys import make_patient

    async with harness.app.state.sessions() as session, session.begin():
        # An account with no chat at all yet (e.g. its only chat was a browser long since cleared).
        await make_patient(session, run_cipher(), name="Asha Verma", email="asha@example.com")
    row = await _settled_row(harness, await nudge_through_app(harness.app, "tg:3"))
    assert (row.status, row.channel, row.delivery_status) == (OutboxStatus.SENT, None, "waiting")

    asha = harness.user(5103)
    await asha.say("/start")
    await asha.press("I already have an account")
    await asha.say("asha@example.com")
    assert "better advice" not in asha.text(), "nothing of the account before the code proves who it is"
    await asha.say(harness.otp.last_code())  # the sign-in links this new chat to the account
    row = await _settled_row(harness, row.id)
    assert (row.status, row.channel) == (OutboxStatus.SENT, "telegram")
    assert "better advice" in asha.text()
    await asha.press("Complete my profile")
    assert "Let's add to your medical profile." in asha.text()
    assert _refused_calls(harness.fake) == []
