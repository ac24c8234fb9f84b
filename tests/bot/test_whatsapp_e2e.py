"""WhatsApp end to end: the app served over real HTTP, Twilio's signed form posts into it, and
twilio's own client talking to the fake Twilio (which posts signed status callbacks back)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import uvicorn
from sqlalchemy import select, update

from backend.accounts.chats import address_of, is_chat, new_identity
from backend.models import (
    AuditEntry,
    ChannelIdentity,
    OutboundMessage,
    OutboxMessage,
    OutboxStatus,
    StoredFile,
    User,
    utcnow,
)
from bot.app import create_app
from bot.whatsapp.settings import TwilioSettings
from tests.fakes.twilio_api import FakeTwilio
from tests.keys import run_cipher
from tests.notifications.helpers import nudge_through_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:twilio")

REMINDER_SID = "HX" + "a1" * 16
QUICK_REPLY_3 = "HX" + "b2" * 16
QUICK_REPLY_2 = "HX" + "c3" * 16
CONTENT = {
    QUICK_REPLY_2: {
        "friendly_name": "two_buttons",
        "types": {
            "twilio/quick-reply": {
                "body": "{{1}}",
                "actions": [{"title": "{{2}}", "id": "1"}, {"title": "{{3}}", "id": "2"}],
            }
        },
        "approved": False,
    },
    REMINDER_SID: {
        "friendly_name": "appointment_reminder",
        "types": {"twilio/text": {"body": "Hi {{1}}, your appointment is at {{2}}."}},
        "approved": True,
    },
    QUICK_REPLY_3: {
        "friendly_name": "three_buttons",
        "types": {
            "twilio/quick-reply": {
                "body": "{{1}}",
                "actions": [
                    {"title": "{{2}}", "id": "1"},
                    {"title": "{{3}}", "id": "2"},
                    {"title": "{{4}}", "id": "3"},
                ],
            }
        },
        "approved": False,
    },
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Harness:
    fake: FakeTwilio
    app: object
    base: str  # where the app listens
    public: str  # what Twilio was configured with (the app's public base URL)

    @property
    def channel(self):
        return self.app.state.whatsapp

    async def settle(self) -> None:
        """Until the app and the fake have nothing left to do (callbacks may start new sends)."""
        for _ in range(5):
            await self.channel.idle()
            await self.fake.flush()
            await asyncio.sleep(0.02)
        await self.channel.idle()

    def user(self, number: str) -> WhatsAppUser:
        return WhatsAppUser(self, number)


@dataclass
class WhatsAppUser:
    h: Harness
    number: str
    seen: int = 0

    async def send(self, body: str = "", **fields) -> httpx.Response:
        params = self.h.fake.inbound_params(self.number, body, **fields)
        response = await self.h.fake.post_inbound(self.h.base + "/webhooks/whatsapp", params)
        await self.h.settle()
        return response

    async def say(self, body: str, **fields) -> list[str]:
        response = await self.send(body, **fields)
        assert response.status_code == 200, response.text
        return self.new()

    def received(self) -> list[str]:
        return [m.rendered for m in self.h.fake.messages_to("whatsapp:" + self.number)]

    def new(self) -> list[str]:
        messages = self.received()
        fresh, self.seen = messages[self.seen :], len(messages)
        return fresh

    def option(self, label_part: str) -> str:
        """The number of an option in the last numbered list we were sent."""
        for text in reversed(self.received()):
            for line in text.splitlines():
                number, dot, label = line.partition(". ")
                if dot and number.isdigit() and label_part.casefold() in label.casefold():
                    return number
        raise AssertionError(f"no option {label_part!r} in {self.received()[-2:]}")

    async def pick(self, label_part: str) -> list[str]:
        return await self.say(self.option(label_part))


@contextlib.asynccontextmanager
async def serving(app, port: int):
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            raise RuntimeError("uvicorn did not start")
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def _twilio_settings(fake: FakeTwilio, **overrides) -> TwilioSettings:
    values = {
        "account_sid": fake.account_sid,
        "auth_token": fake.auth_token,
        "whatsapp_from": fake.whatsapp_from,
        "sms_from": fake.sms_from,
        "api_base_url": fake.base_url,
        "templates": {"appointment_reminder": REMINDER_SID},
        "max_send_attempts": 3,
    }
    return TwilioSettings(_env_file=None, **(values | overrides))


async def _harness(settings, fake: FakeTwilio, *, public: str | None = None, **twilio):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app_settings = settings.model_copy(update={"public_base_url": public or base})
    app = create_app(app_settings, twilio=_twilio_settings(fake, **twilio))
    app.state.whatsapp.sender._backoff_base = 0.01
    return app, base


@pytest.fixture
async def fake():
    async with FakeTwilio(content=CONTENT) as server:
        yield server


@pytest.fixture
async def harness(settings, fake):
    app, base = await _harness(settings, fake)
    async with serving(app, int(base.rsplit(":", 1)[1])), app.router.lifespan_context(app):
        yield Harness(fake, app, base, base)


async def _up_to_contact(asha: WhatsAppUser) -> list[str]:
    """From the first message to the contact step, as a new patient; returns the contact prompt."""
    welcome = await asha.say("hi")
    assert "Welcome to telecare" in welcome[-1] and "Reply 1" in welcome[-1]
    await asha.pick("sign up")
    await asha.pick("I agree")
    await asha.say("Asha Verma")
    await asha.say("23-04-1990")
    return await asha.pick("Female")


async def _sign_up(asha: WhatsAppUser) -> None:
    contact = await _up_to_contact(asha)
    assert "Use this WhatsApp number" in contact[-1]
    await asha.pick("this WhatsApp number")
    await asha.pick("English")
    done = await asha.say("Kolkata")
    assert "all set" in "\n".join(done)


async def test_a_patient_signs_up_with_numbered_replies_edits_the_profile_and_reaches_the_menu(
    harness, sessions
):
    asha = harness.user("+919876543210")
    await _sign_up(asha)
    async with sessions() as session:
        user = await session.scalar(select(User))
        identity = await session.scalar(select(ChannelIdentity).where(ChannelIdentity.channel == "whatsapp"))
    assert identity.user_id == user.id and address_of(run_cipher(), identity) == "+919876543210"
    assert user.phone_enc and b"9876543210" not in user.phone_enc

    menu = await asha.say("menu")
    assert "My medical profile" in menu[-1]
    await asha.pick("medical profile")
    await asha.pick("Allergies")
    await asha.pick("Add")
    saved = await asha.say("Penicillin 💊")
    assert any("Penicillin" in text for text in saved)
    assert all(len(text) <= 1600 for text in asha.received()), "every body under Twilio's limit"
    assert all(m.status in ("delivered", "read") for m in harness.fake.messages)
    async with sessions() as session:
        statuses = set((await session.scalars(select(OutboundMessage.status))).all())
    assert statuses == {"delivered"}, "status callbacks recorded"


async def test_the_health_summary_goes_as_media_that_twilio_fetches_once_without_a_cookie(harness):
    asha = harness.user("+919876543210")
    await _sign_up(asha)
    await asha.say("menu")
    await asha.pick("medical profile")
    await asha.pick("Allergies")
    await asha.pick("Add")
    await asha.say("Penicillin")
    await asha.say("back")
    await asha.pick("Download")
    (sent,) = [m for m in harness.fake.messages_to("whatsapp:+919876543210") if m.media_urls]
    (media_url,) = sent.media_urls
    plain = media_url.split("?")[0]
    assert media_url.startswith(harness.public + "/files/") and "?media=" in media_url
    assert plain in sent.body and "media=" not in sent.body, "the caption has the plain link only"
    async with httpx.AsyncClient() as twilio:  # Twilio's fetch: no cookie, the signed media URL
        fetched = await twilio.get(media_url)
        assert fetched.status_code == 200 and "Penicillin" in fetched.text and "Asha Verma" in fetched.text
        again = await twilio.get(media_url)
        assert again.status_code == 403 and "Penicillin" not in again.text, "one media fetch"
        copied = await twilio.get(plain)  # the caption's link in a browser not signed in
        assert copied.status_code == 403 and "Penicillin" not in copied.text
        forged = await twilio.get(plain + "?media=9999999999." + "0" * 64)
        assert forged.status_code == 403 and "Penicillin" not in forged.text


async def test_a_forged_or_unsigned_webhook_is_refused_and_nothing_is_sent(harness):
    fake, url = harness.fake, harness.base + "/webhooks/whatsapp"
    params = fake.inbound_params("+919876500001", "hi")
    assert (await fake.post_inbound(url, params, signature="")).status_code == 403
    assert (await fake.post_inbound(url, params, signature="bm90IHRoZSBzaWduYXR1cmU=")).status_code == 403
    wrong_url = await fake.post_inbound(url, params, signed_url="https://elsewhere.example/webhooks/whatsapp")
    assert wrong_url.status_code == 403
    tampered = {**params, "Body": "/start"}
    tampered_signature = fake.sign(url, params)
    assert (await fake.post_inbound(url, tampered, signature=tampered_signature)).status_code == 403
    status = await fake.post_inbound(url + "/status", {"MessageSid": "SM" + "0" * 32}, signature="")
    assert status.status_code == 403
    await harness.settle()
    assert fake.messages == []


async def test_a_replayed_message_sid_gets_one_reply_and_unknown_fields_are_accepted(harness):
    fake, url = harness.fake, harness.base + "/webhooks/whatsapp"
    params = fake.inbound_params("+919876500002", "hi", extra={"SomeFieldTwilioAddsLater": "x"})
    first = await fake.post_inbound(url, params)
    second = await fake.post_inbound(url, params)
    await harness.settle()
    assert first.status_code == second.status_code == 200
    assert first.headers["content-type"].startswith("text/xml") and "<Response/>" in first.text
    assert len(fake.messages_to("whatsapp:+919876500002")) == 1


async def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(settings, fake):
    public = "https://telecare.example"
    app, base = await _harness(settings, fake, public=public)
    async with serving(app, int(base.rsplit(":", 1)[1])), app.router.lifespan_context(app):
        params = fake.inbound_params("+919876500003", "hi")
        local = await fake.post_inbound(base + "/webhooks/whatsapp", params)
        assert local.status_code == 403, "signed over the internal address: not what Twilio signs"
        proxied = await fake.post_inbound(
            base + "/webhooks/whatsapp", params, signed_url=public + "/webhooks/whatsapp"
        )
        assert proxied.status_code == 200
        await app.state.whatsapp.idle()
    assert len(fake.messages_to("whatsapp:+919876500003")) == 1


async def test_interactive_quick_replies_inside_the_window_resolve_like_numbers(settings, fake):
    app, base = await _harness(settings, fake, quick_reply_content={2: QUICK_REPLY_2, 3: QUICK_REPLY_3})
    async with serving(app, int(base.rsplit(":", 1)[1])), app.router.lifespan_context(app):
        h = Harness(fake, app, base, base)
        ravi = h.user("+919876500004")
        await ravi.say("hi")
        welcome = fake.messages_to("whatsapp:+919876500004")[-1]
        assert welcome.content_sid is None, "a label over WhatsApp's 20 characters: numbered text instead"
        await ravi.pick("sign up")
        consent = fake.messages_to("whatsapp:+919876500004")[-1]
        assert consent.content_sid in (QUICK_REPLY_2, QUICK_REPLY_3)
        assert "agree" in consent.rendered.casefold()
        await ravi.send(button_payload="1", button_text=consent.content_variables["2"])
        assert "name" in fake.messages_to("whatsapp:+919876500004")[-1].rendered.casefold()


async def test_a_reminder_outside_the_window_goes_as_the_approved_template(harness, sessions):
    asha = harness.user("+919876543210")
    await _sign_up(asha)
    # A day and a half later: the window has closed, on Twilio's side and in our records.
    harness.fake.close_window("+919876543210")
    async with sessions() as session, session.begin():
        await session.execute(update(ChannelIdentity).values(last_inbound_at=utcnow() - timedelta(hours=36)))
    sid = await harness.channel.notify(
        "+919876543210",
        "Reminder: your appointment is at 10:30.",
        template="appointment_reminder",
        variables={"1": "Asha", "2": "10:30"},
    )
    await harness.settle()
    sent = harness.fake.message(sid)
    assert sent.content_sid == REMINDER_SID and sent.content_variables == {"1": "Asha", "2": "10:30"}
    assert sent.rendered == "Hi Asha, your appointment is at 10:30."
    assert sent.status == "delivered"


async def test_inside_the_window_a_reminder_is_free_text(harness):
    asha = harness.user("+919876543210")
    await asha.say("hi")
    sid = await harness.channel.notify(
        "+919876543210",
        "Reminder: 10:30 today.",
        template="appointment_reminder",
        variables={"1": "A", "2": "B"},
    )
    await harness.settle()
    assert (
        harness.fake.message(sid).rendered == "Reminder: 10:30 today."
        and not harness.fake.message(sid).content_sid
    )


async def test_a_63016_in_the_status_callback_falls_back_to_the_template(harness, sessions):
    asha = harness.user("+919876543210")
    await asha.say("hi")
    harness.fake.close_window("+919876543210")  # Twilio's clock says closed; ours says open
    sid = await harness.channel.notify(
        "+919876543210",
        "Reminder: 10:30 today.",
        template="appointment_reminder",
        variables={"1": "Asha", "2": "10:30"},
    )
    await harness.settle()
    assert harness.fake.message(sid).status == "failed" and harness.fake.message(sid).error_code == 63016
    template = harness.fake.messages_to("whatsapp:+919876543210")[-1]
    assert template.content_sid == REMINDER_SID and template.status == "delivered"
    async with sessions() as session:
        failed = await session.scalar(select(OutboundMessage).where(OutboundMessage.sid == sid))
    assert (failed.status, failed.error_code, failed.fallback_sent) == ("failed", 63016, True)
    assert b"Asha" not in failed.variables_enc


async def test_a_synchronous_63016_also_falls_back(settings):
    async with FakeTwilio(content=CONTENT, window_error="sync") as fake:
        app, base = await _harness(settings, fake)
        async with serving(app, int(base.rsplit(":", 1)[1])), app.router.lifespan_context(app):
            h = Harness(fake, app, base, base)
            await h.user("+919876500005").say("hi")
            fake.close_window("+919876500005")
            sid = await app.state.whatsapp.notify(
                "+919876500005",
                "Reminder",
                template="appointment_reminder",
                variables={"1": "R", "2": "9:00"},
            )
            await h.settle()
            assert fake.message(sid).content_sid == REMINDER_SID


async def test_no_template_and_no_window_sends_nothing(harness):
    sid = await harness.channel.notify("+919876500006", "Reminder", template="not_approved")
    assert sid is None and harness.fake.messages == []


async def test_stop_sends_only_the_confirmation_until_start(harness, sessions):
    asha = harness.user("+919876543210")
    await asha.say("hi")
    stopped = await asha.say("STOP")
    assert len(stopped) == 1 and "START" in stopped[0]
    assert await asha.say("hello?") == [], "nothing but the confirmation"
    assert await harness.channel.notify("+919876543210", "Reminder", template="appointment_reminder") is None
    assert await asha.say("menu") == []
    async with sessions() as session:
        identity = await session.scalar(
            select(ChannelIdentity).where(*is_chat(run_cipher(), "whatsapp", "+919876543210"))
        )
        actions = set((await session.scalars(select(AuditEntry.action))).all())
    assert identity.opted_out_at is not None and "whatsapp_opt_out" in actions
    back = await asha.say("start")
    assert "Welcome back" in back[0] and len(back) >= 2, "confirmation, then where we were"


async def test_status_callbacks_never_move_backwards(harness, sessions):
    harness.fake.auto_callbacks = False
    asha = harness.user("+919876500007")
    await asha.say("hi")
    sid = harness.fake.messages_to("whatsapp:+919876500007")[-1].sid
    for status in ("read", "delivered", "sent"):
        await harness.fake.send_status(sid, status)
    async with sessions() as session:
        row = await session.scalar(select(OutboundMessage).where(OutboundMessage.sid == sid))
    assert row.status == "read"
    await harness.fake.send_status(sid, "failed", error_code=30008)
    async with sessions() as session:
        row = await session.scalar(select(OutboundMessage).where(OutboundMessage.sid == sid))
    assert (row.status, row.error_code) == ("failed", 30008)


async def test_twilio_429_and_500_are_retried(harness):
    harness.fake.fail_next("messages", status=429, code=20429, times=1)
    harness.fake.fail_next("messages", status=500, code=20500, times=1)
    replies = await harness.user("+919876500008").say("hi")
    assert len(replies) == 1 and "Welcome" in replies[0]


async def test_a_photo_is_fetched_with_the_account_credentials_and_stored_encrypted(harness, sessions):
    asha = harness.user("+919876500009")
    await asha.say("hi")
    picture = b"\x89PNG\r\n\x1a\n" + b"lab report" * 100
    response = await asha.send("", media=[(picture, "image/png")])
    assert response.status_code == 200
    async with sessions() as session:
        stored = await session.scalar(select(StoredFile))
    assert stored.channel == "whatsapp" and stored.size == len(picture)
    assert b"lab report" not in stored.content_enc
    assert next(iter(harness.fake.media.values())).downloads == 1


async def test_a_typed_phone_number_is_proven_by_sms_through_twilio_verify(settings, fake, sessions):
    app, base = await _harness(settings, fake, verify_service_sid=fake.verify_service_sid)
    async with serving(app, int(base.rsplit(":", 1)[1])), app.router.lifespan_context(app):
        h = Harness(fake, app, base, base)
        asha = h.user("+919876500010")
        await _up_to_contact(asha)
        await asha.say("+91 98765 11111")  # another number than this WhatsApp one: prove it
        assert fake.verifications and fake.verifications[-1].to == "+919876511111"
        wrong = await asha.say("000000" if fake.verify_code("+919876511111") != "000000" else "111111")
        assert "4 tries left" in "\n".join(wrong), "Twilio said pending: a wrong code, counted by us"
        verified = await asha.say(fake.verify_code("+919876511111"))
        assert "confirmed" in "\n".join(verified).casefold()


async def test_without_verify_the_code_goes_by_sms_through_the_messages_api(settings, fake):
    app, base = await _harness(settings, fake)
    async with serving(app, int(base.rsplit(":", 1)[1])), app.router.lifespan_context(app):
        h = Harness(fake, app, base, base)
        asha = h.user("+919876500011")
        await _up_to_contact(asha)
        await asha.say("9876522222")
        (sms,) = fake.messages_to("+919876522222")
        assert not sms.to.startswith("whatsapp:") and sms.from_ == fake.sms_from
        code = next(word for word in sms.body.replace(".", " ").split() if word.isdigit() and len(word) == 6)
        verified = await asha.say(code)
        assert "confirmed" in "\n".join(verified).casefold()


async def test_a_multipart_post_is_refused_before_anything_is_parsed(harness):
    async with httpx.AsyncClient() as http:
        response = await http.post(
            harness.base + "/webhooks/whatsapp",
            files={"Body": ("x.txt", b"hi")},
            headers={"X-Twilio-Signature": "bm9wZQ=="},
        )
    assert response.status_code == 403 and harness.fake.messages == []


async def test_start_from_a_subscribed_user_is_an_ordinary_message(harness, sessions):
    replies = await harness.user("+919876500012").say("start")
    assert replies and "Welcome back" not in replies[-1]
    async with sessions() as session:
        actions = set((await session.scalars(select(AuditEntry.action))).all())
    assert "whatsapp_opt_in" not in actions


async def test_a_status_callback_sent_to_the_message_url_gets_no_answer(harness):
    fake = harness.fake
    params = fake.inbound_params(
        "+919876500013", "", extra={"MessageStatus": "delivered", "SmsStatus": "delivered"}
    )
    response = await fake.post_inbound(harness.base + "/webhooks/whatsapp", params)
    await harness.settle()
    assert response.status_code == 200 and fake.messages_to("whatsapp:+919876500013") == []


# --- notifications through the outbox ---------------------------------------------------------


async def _outbox_row(harness: Harness, row_id: str, until) -> OutboxMessage:
    for _ in range(300):
        await harness.settle()
        async with harness.app.state.sessions() as session:
            row = await session.get(OutboxMessage, row_id)
        if until(row):
            return row
        await asyncio.sleep(0.02)
    raise AssertionError(f"outbox row: {row.status} {row.channel} {row.delivery_status}")


async def test_a_notification_in_the_window_is_text_its_button_typed_back(harness):
    asha = harness.user("+919876543210")
    await _sign_up(asha)
    asha.new()
    row_id = await nudge_through_app(harness.app, "wa:1")
    row = await _outbox_row(harness, row_id, lambda r: r.delivery_status == "delivered")
    (text,) = [t for t in asha.new() if "better advice" in t]
    code = text.rsplit(" ", 1)[-1].strip("”.")
    assert text.endswith(f"Reply “Complete my profile {code}”.") and len(text) <= 1600
    assert row.channel == "whatsapp" and harness.fake.message(row.platform_message_id).body == text
    replies = await asha.say(f"complete my profile {code}")
    # The welcome notification may land in the same moment, so look among the replies.
    assert "Let's add to your medical profile." in replies


async def test_an_undelivered_notification_goes_to_the_next_chat(harness):
    asha = harness.user("+919876543210")
    await _sign_up(asha)
    async with harness.app.state.sessions() as session, session.begin():
        user = await session.scalar(select(User))
        session.add(new_identity(run_cipher(), "web", "w" * 64, user_id=user.id))
    harness.fake.auto_callbacks = False
    row_id = await nudge_through_app(harness.app, "wa:2")
    sent = await _outbox_row(harness, row_id, lambda r: r.status is OutboxStatus.SENT)
    assert sent.channel == "whatsapp"
    await harness.fake.send_status(sent.platform_message_id, "undelivered", 30003)  # unreachable handset
    harness.app.state.dispatcher.wake()
    row = await _outbox_row(harness, row_id, lambda r: r.channel == "web")
    assert (row.status, row.delivery_status, row.tried_channels) == (OutboxStatus.SENT, "waiting", "whatsapp")
