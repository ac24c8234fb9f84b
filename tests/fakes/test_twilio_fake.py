"""The Twilio fake, driven by twilio-python's own async client the way the product drives Twilio."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes.twilio_api import FakeTwilio

# twilio 9.13's AsyncTwilioHttpClient still passes aiohttp's deprecated BasicAuth (aiohttp 3.14).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:twilio")

USER = "+919876543210"
WA_USER = "whatsapp:" + USER
REMINDER = "HX" + "1" * 32  # approved utility template
MENU = "HX" + "2" * 32  # list-picker: cannot be approved, session only
CONTENT = {
    REMINDER: {
        "friendly_name": "appointment_reminder",
        "types": {"twilio/text": {"body": "Hi {{1}}, your appointment is at {{2}}"}},
        "approved": True,
    },
    MENU: {
        "friendly_name": "main_menu",
        "types": {
            "twilio/list-picker": {
                "body": "What would you like to do?",
                "button": "Options",
                "items": [{"item": "Book", "id": "book"}, {"item": "Pay", "id": "pay"}],
            }
        },
        "approved": False,
    },
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Receiver:
    """The app's side: a tiny server that checks X-Twilio-Signature and records every form."""

    def __init__(self, auth_token: str):
        self.validator = RequestValidator(auth_token)
        self.forms: list[dict[str, str]] = []
        self.signatures_valid: list[bool] = []
        self.public_url: str | None = None  # the URL Twilio signs over, when behind a "proxy"
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def statuses(self) -> list[str]:
        return [form["MessageStatus"] for form in self.forms if "MessageStatus" in form]

    async def _handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        url = self.public_url or str(request.url)
        valid = self.validator.validate(url, form, request.headers.get("X-Twilio-Signature", ""))
        self.signatures_valid.append(valid)
        if not valid:
            return web.Response(status=403)
        self.forms.append({key: str(value) for key, value in form.items()})
        return web.Response(text="<Response/>", content_type="application/xml")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def fake(clock: Clock):
    async with FakeTwilio(content=CONTENT, clock=clock) as twilio:
        yield twilio


@pytest.fixture
async def receiver(fake: FakeTwilio):
    app = Receiver(fake.auth_token)
    await app.start()
    yield app
    await app.stop()


def make_client(fake: FakeTwilio, account_sid: str | None = None, auth_token: str | None = None) -> Client:
    client = Client(
        account_sid or fake.account_sid, auth_token or fake.auth_token, http_client=AsyncTwilioHttpClient()
    )
    client.edge = client.region = None  # TWILIO_EDGE/TWILIO_REGION would rewrite the host
    client.api.base_url = client.verify.base_url = client.content.base_url = fake.base_url
    return client


@pytest.fixture
async def client(fake: FakeTwilio):
    twilio = make_client(fake)
    yield twilio
    await twilio.http_client.session.close()


async def refused(call: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        await call
    return caught.value


# ---- Messages


async def test_wrong_credentials_are_refused_with_20003(fake: FakeTwilio):
    for sid, token in ((None, "0" * 32), ("AC" + "9" * 32, None)):
        other = make_client(fake, sid, token)
        error = await refused(other.messages.create_async(to=USER, from_=fake.sms_from, body="hi"))
        await other.http_client.session.close()
        assert (error.status, error.code) == (401, 20003)
    assert [r.status for r in fake.requests] == [401, 401]
    assert fake.messages == []


async def test_body_of_1600_characters_goes_and_1601_is_refused(fake: FakeTwilio, client: Client):
    sent = await client.messages.create_async(to=USER, from_=fake.sms_from, body="x" * 1600)
    assert (sent.status, sent.direction, sent.num_segments, sent.api_version) == (
        "queued",
        "outbound-api",
        "1",
        "2010-04-01",
    )
    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert sent.date_created == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    error = await refused(client.messages.create_async(to=USER, from_=fake.sms_from, body="x" * 1601))
    assert (error.status, error.code) == (400, 21617)
    assert [m.sid for m in fake.messages_to(USER)] == [sent.sid]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"body": "hi"}, 21603),  # no From nor MessagingServiceSid
        ({"from_": "whatsapp:+14155550100"}, 21619),  # nothing to send
        ({"from_": "+14155550101", "body": "hi"}, 21910),  # SMS From, WhatsApp To
        ({"from_": "whatsapp:+14155559999", "body": "hi"}, 63007),  # not our sender
        ({"from_": "whatsapp:+14155550100", "content_sid": REMINDER, "body": "hi"}, 21619),
        ({"from_": "whatsapp:+14155550100", "content_sid": "HX" + "9" * 32}, 21655),
        ({"from_": "whatsapp:+14155550100", "content_sid": REMINDER, "content_variables": "{1: x}"}, 21656),
        (
            {"from_": "whatsapp:+14155550100", "content_sid": REMINDER, "content_variables": '{"1": "A"}'},
            21656,
        ),
        ({"from_": "whatsapp:+14155550100", "body": "hi", "content_variables": '{"1": "A"}'}, 21654),
        ({"from_": "whatsapp:+14155550100", "media_url": [f"https://x.test/{i}" for i in range(11)]}, 21623),
    ],
)
async def test_refusals(fake: FakeTwilio, client: Client, kwargs: dict[str, Any], code: int):
    fake.open_window(USER)
    error = await refused(client.messages.create_async(to=WA_USER, **kwargs))
    assert (error.status, error.code) == (400, code)
    assert fake.requests[-1].code == code
    assert fake.messages == []


async def test_missing_to_is_21604(fake: FakeTwilio):
    async with httpx.AsyncClient(auth=(fake.account_sid, fake.auth_token)) as http:
        url = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
        response = await http.post(url, data={"From": fake.sms_from, "Body": "hi", "Unknown": "ignored"})
    assert response.status_code == 400
    assert response.json() == {
        "code": 21604,
        "message": "A 'To' phone number is required.",
        "more_info": "https://www.twilio.com/docs/errors/21604",
        "status": 400,
    }


async def test_free_form_outside_the_window_fails_in_a_signed_callback(
    fake: FakeTwilio, client: Client, receiver: Receiver
):
    sent = await client.messages.create_async(
        to=WA_USER, from_=fake.whatsapp_from, body="hello", status_callback=receiver.base_url + "/status?t=1"
    )
    assert sent.status == "queued"  # Twilio accepts it; the failure comes later
    await fake.flush()
    assert receiver.statuses() == ["failed"]
    form = receiver.forms[0]
    assert (form["ErrorCode"], form["MessageSid"], form["ChannelPrefix"]) == ("63016", sent.sid, "whatsapp")
    assert (form["From"], form["To"], form["AccountSid"]) == (fake.whatsapp_from, WA_USER, fake.account_sid)
    assert receiver.signatures_valid == [True]
    assert fake.message(sent.sid).error_code == 63016
    assert [r.status_code for r in fake.callback_results] == [200]


async def test_free_form_outside_the_window_fails_at_once_with_sync_errors(clock: Clock):
    async with FakeTwilio(window_error="sync", clock=clock) as fake:
        client = make_client(fake)
        error = await refused(client.messages.create_async(to=WA_USER, from_=fake.whatsapp_from, body="hi"))
        await client.http_client.session.close()
    assert (error.status, error.code) == (400, 63016)
    assert fake.messages == []


async def test_inbound_opens_the_window_for_24_hours(
    fake: FakeTwilio, client: Client, receiver: Receiver, clock: Clock
):
    fake.read_receipts = True
    inbound = await fake.post_inbound(receiver.base_url + "/whatsapp", fake.inbound_params(WA_USER, "Hi"))
    assert inbound.status_code == 200
    callback = receiver.base_url + "/status"
    first = await client.messages.create_async(
        to=WA_USER, from_=fake.whatsapp_from, body="Welcome", status_callback=callback
    )
    await fake.flush()
    assert receiver.statuses() == ["sent", "delivered", "read"]
    assert fake.message(first.sid).statuses == ["queued", "sent", "delivered", "read"]

    clock.advance(hours=24)  # exactly 24 h: still open
    await client.messages.create_async(to=WA_USER, from_=fake.whatsapp_from, body="Still here")
    clock.advance(seconds=1)
    late = await client.messages.create_async(to=WA_USER, from_=fake.whatsapp_from, body="Too late")
    await fake.flush()
    assert [m.status for m in fake.messages_to(WA_USER)] == ["read", "read", "failed"]
    assert fake.message(late.sid).error_code == 63016


async def test_approved_template_goes_outside_the_window_with_variables_rendered(
    fake: FakeTwilio, client: Client, receiver: Receiver
):
    sent = await client.messages.create_async(
        to=WA_USER,
        from_=fake.whatsapp_from,
        content_sid=REMINDER,
        content_variables=json.dumps({"1": "Asha", "2": "10:30"}),
        status_callback=receiver.base_url + "/status",
    )
    assert sent.body == "Hi Asha, your appointment is at 10:30"
    await fake.flush()
    assert receiver.statuses() == ["sent", "delivered"]
    message = fake.message(sent.sid)
    assert (message.content_sid, message.content_variables) == (REMINDER, {"1": "Asha", "2": "10:30"})
    assert message.rendered == "Hi Asha, your appointment is at 10:30"


async def test_template_over_1024_characters_fails_with_63021(fake: FakeTwilio, client: Client):
    variables = json.dumps({"1": "A" * 1000, "2": "10:30"})
    sent = await client.messages.create_async(
        to=WA_USER, from_=fake.whatsapp_from, content_sid=REMINDER, content_variables=variables
    )
    await fake.flush()
    assert (fake.message(sent.sid).status, fake.message(sent.sid).error_code) == ("failed", 63021)


async def test_unreachable_callback_is_recorded(fake: FakeTwilio, client: Client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    await client.messages.create_async(
        to=USER, from_=fake.sms_from, body="hi", status_callback=f"http://127.0.0.1:{closed_port}/status"
    )
    await fake.flush()
    assert [(r.status, r.status_code) for r in fake.callback_results] == [("sent", None), ("delivered", None)]
    assert all(r.error for r in fake.callback_results)


async def test_template_variable_with_a_newline_is_refused(fake: FakeTwilio, client: Client):
    variables = json.dumps({"1": "Asha\nKumar", "2": "10:30"})
    error = await refused(
        client.messages.create_async(
            to=WA_USER, from_=fake.whatsapp_from, content_sid=REMINDER, content_variables=variables
        )
    )
    assert error.code == 21656


async def test_list_picker_needs_the_window(fake: FakeTwilio, client: Client):
    outside = await client.messages.create_async(to=WA_USER, from_=fake.whatsapp_from, content_sid=MENU)
    fake.open_window(WA_USER)
    inside = await client.messages.create_async(to=WA_USER, from_=fake.whatsapp_from, content_sid=MENU)
    await fake.flush()
    assert fake.message(outside.sid).status == "failed"
    assert fake.message(inside.sid).status == "delivered"
    assert fake.message(inside.sid).rendered == "What would you like to do?"


async def test_media_urls_repeat_and_ten_are_allowed(fake: FakeTwilio, client: Client):
    fake.open_window(USER)
    urls = [f"https://files.test/{i}.jpg" for i in range(10)]
    sent = await client.messages.create_async(to=WA_USER, from_=fake.whatsapp_from, media_url=urls)
    assert sent.num_media == "10"
    assert fake.message(sent.sid).media_urls == urls
    assert fake.requests[-1].params["MediaUrl"] == urls


async def test_per_sender_rate_limit_is_429_20429(clock: Clock):
    async with FakeTwilio(per_sender_per_second=2, clock=clock) as fake:
        client = make_client(fake)
        for _ in range(2):
            await client.messages.create_async(to=USER, from_=fake.sms_from, body="hi")
        error = await refused(client.messages.create_async(to=USER, from_=fake.sms_from, body="hi"))
        # another sender has its own bucket
        await client.messages.create_async(to=USER, messaging_service_sid="MG" + "3" * 32, body="hi")
        await client.http_client.session.close()
    assert (error.status, error.code) == (429, 20429)
    assert [m.statuses[0] for m in fake.messages] == ["queued", "queued", "accepted"]


async def test_fail_next_then_success(fake: FakeTwilio, client: Client):
    fake.fail_next("messages", status=500, code=20500)
    error = await refused(client.messages.create_async(to=USER, from_=fake.sms_from, body="hi"))
    assert (error.status, error.code) == (500, 20500)
    sent = await client.messages.create_async(to=USER, from_=fake.sms_from, body="hi")
    assert sent.status == "queued"
    assert [(r.status, r.code) for r in fake.requests] == [(500, 20500), (201, None)]


async def test_fetch_shows_the_latest_status(fake: FakeTwilio, client: Client):
    sent = await client.messages.create_async(to=USER, from_=fake.sms_from, body="hi")
    await fake.flush()
    fetched = await client.messages(sent.sid).fetch_async()
    assert fetched.status == "delivered"


async def test_out_of_order_statuses(fake: FakeTwilio, client: Client, receiver: Receiver):
    fake.auto_callbacks = False
    fake.open_window(USER)
    sent = await client.messages.create_async(
        to=WA_USER, from_=fake.whatsapp_from, body="hi", status_callback=receiver.base_url + "/status"
    )
    await fake.flush()
    assert receiver.forms == []
    await fake.send_status(sent.sid, "read")
    await fake.send_status(sent.sid, "delivered")
    assert receiver.statuses() == ["read", "delivered"]
    assert receiver.signatures_valid == [True, True]
    assert fake.message(sent.sid).statuses == ["queued", "read", "delivered"]


# ---- Media and inbound


async def test_media_download_needs_basic_auth(fake: FakeTwilio):
    url = fake.add_media(b"\x89PNG...", "image/png")
    async with httpx.AsyncClient() as http:
        anonymous = await http.get(url)
        wrong = await http.get(url, auth=(fake.account_sid, "0" * 32))
        good = await http.get(url, auth=(fake.account_sid, fake.auth_token))
        unknown = await http.get(url[:-5] + "00000", auth=(fake.account_sid, fake.auth_token))
    assert (anonymous.status_code, anonymous.json()["code"], wrong.status_code) == (401, 20003, 401)
    assert (good.content, good.headers["Content-Type"]) == (b"\x89PNG...", "image/png")
    assert (unknown.status_code, unknown.json()["code"]) == (404, 20404)
    assert fake.media[url].downloads == 1


async def test_inbound_form_is_signed_like_twilio(fake: FakeTwilio, receiver: Receiver):
    params = fake.inbound_params(
        USER, media=[(b"%PDF", "application/pdf")], button_payload="confirm_1", button_text="Confirm"
    )
    assert params["MessageSid"].startswith("MM") and params["SmsSid"] == params["MessageSid"]
    assert (params["From"], params["To"], params["WaId"]) == (WA_USER, fake.whatsapp_from, "919876543210")
    assert (params["NumMedia"], params["MediaContentType0"], params["MessageType"]) == (
        "1",
        "application/pdf",
        "button",
    )
    assert (params["Body"], params["ButtonPayload"], params["ProfileName"]) == (
        "Confirm",
        "confirm_1",
        "Asha",
    )
    public = "https://telecare.example/webhooks/whatsapp"
    assert RequestValidator(fake.auth_token).validate(public, params, fake.sign(public, params))

    receiver.public_url = public  # the app listens locally but is configured with its public URL
    response = await fake.post_inbound(receiver.base_url + "/whatsapp", params, signed_url=public)
    assert response.status_code == 200
    forged = await fake.post_inbound(receiver.base_url + "/whatsapp", params, signature="forged")
    unsigned = await fake.post_inbound(receiver.base_url + "/whatsapp", params, signature="")
    assert (forged.status_code, unsigned.status_code) == (403, 403)
    assert receiver.signatures_valid == [True, False, False]
    assert fake.in_window(USER)


async def test_location_and_text_message_types(fake: FakeTwilio):
    location = fake.inbound_params(USER, latitude=12.97, longitude=77.59, extra={"Address": "MG Road"})
    assert (location["MessageType"], location["Latitude"], location["Address"]) == (
        "location",
        "12.97",
        "MG Road",
    )
    assert fake.inbound_params(USER, "hi")["MessageType"] == "text"


# ---- Verify


async def test_verify_send_wrong_then_right_code(fake: FakeTwilio, client: Client):
    service = client.verify.v2.services(fake.verify_service_sid)
    started = await service.verifications.create_async(to=USER, channel="whatsapp")
    assert (started.status, started.valid, started.channel) == ("pending", False, "whatsapp")
    assert started.sid.startswith("VE") and len(started.send_code_attempts) == 1
    code = fake.verify_code(USER)
    wrong = "000000" if code != "000000" else "111111"
    check = await service.verification_checks.create_async(to=USER, code=wrong)
    assert (check.status, check.valid) == ("pending", False)
    check = await service.verification_checks.create_async(verification_sid=started.sid, code=code)
    assert (check.status, check.valid) == ("approved", True)
    error = await refused(service.verification_checks.create_async(to=USER, code=code))
    assert (error.status, error.code) == (404, 20404)
    assert fake.verifications[0].status == "approved"


async def test_verification_expires_after_10_minutes(fake: FakeTwilio, client: Client, clock: Clock):
    service = client.verify.v2.services(fake.verify_service_sid)
    await service.verifications.create_async(to=USER, channel="sms")
    clock.advance(minutes=10, seconds=1)
    error = await refused(service.verification_checks.create_async(to=USER, code=fake.verify_code(USER)))
    assert (error.status, error.code) == (404, 20404)
    again = await service.verifications.create_async(to=USER, channel="sms")  # a fresh one
    assert again.sid != fake.verifications[0].sid and fake.verifications[0].status == "expired"


async def test_five_wrong_checks_then_429_60202(fake: FakeTwilio, client: Client):
    service = client.verify.v2.services(fake.verify_service_sid)
    await service.verifications.create_async(to=USER, channel="sms")
    code = fake.verify_code(USER)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        check = await service.verification_checks.create_async(to=USER, code=wrong)
        assert check.status == "pending"
    error = await refused(service.verification_checks.create_async(to=USER, code=code))
    assert (error.status, error.code) == (429, 60202)


async def test_sixth_send_is_429_60203_and_each_send_has_a_new_code(fake: FakeTwilio, client: Client):
    service = client.verify.v2.services(fake.verify_service_sid)
    for _ in range(5):
        await service.verifications.create_async(to=USER, channel="sms")
    assert len(fake.verifications) == 1 and len(fake.verifications[0].codes) == 5
    error = await refused(service.verifications.create_async(to=USER, channel="sms"))
    assert (error.status, error.code) == (429, 60203)


async def test_verify_refusals(fake: FakeTwilio, client: Client):
    service = client.verify.v2.services(fake.verify_service_sid)
    bad_to = await refused(service.verifications.create_async(to="98765", channel="sms"))
    bad_channel = await refused(service.verifications.create_async(to=USER, channel="pigeon"))
    unknown = await refused(
        client.verify.v2.services("VA" + "0" * 32).verifications.create_async(to=USER, channel="sms")
    )
    assert [(e.status, e.code) for e in (bad_to, bad_channel, unknown)] == [
        (400, 60200),
        (400, 60200),
        (404, 20404),
    ]


# ---- Content and the rest


async def test_content_fetch(fake: FakeTwilio, client: Client):
    content = await client.content.v1.contents(REMINDER).fetch_async()
    assert (content.friendly_name, content.language) == ("appointment_reminder", "en")
    assert content.types["twilio/text"]["body"].startswith("Hi {{1}}")
    error = await refused(client.content.v1.contents("HX" + "0" * 32).fetch_async())
    assert (error.status, error.code) == (404, 20404)


async def test_unknown_path_is_404_20404(fake: FakeTwilio):
    async with httpx.AsyncClient(auth=(fake.account_sid, fake.auth_token)) as http:
        response = await http.get(fake.base_url + "/2010-04-01/Accounts/x/Calls.json")
    assert (response.status_code, response.json()["code"]) == (404, 20404)
