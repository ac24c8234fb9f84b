"""SmtpOtpSender against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from backend.otp.senders import OtpDeliveryError, SmtpOtpSender

FROM = "telecare <no-reply@telecare.test>"
MESSAGE = "Your telecare code is 493817\nIt expires in 5 minutes. Never share it."


class RecordingHandler:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


async def test_code_is_mailed_to_the_destination(smtp_server) -> None:
    controller, handler = smtp_server
    sender = SmtpOtpSender(f"smtp://127.0.0.1:{controller.port}", FROM, timeout=5)
    assert sender.supports("email") and not sender.supports("phone")

    await sender.send(
        kind="email", destination="asha@example.com", code="493817", chat_key="web:a", message=MESSAGE
    )

    assert len(handler.envelopes) == 1
    envelope = handler.envelopes[0]
    assert envelope.mail_from == "no-reply@telecare.test"
    assert envelope.rcpt_tos == ["asha@example.com"]
    mail = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert mail["To"] == "asha@example.com"
    assert mail["From"] == FROM
    assert mail["Subject"] == "Your telecare code is 493817"
    assert "493817" in mail.get_content()
    assert "Never share it." in mail.get_content()


async def test_each_send_is_one_mail(smtp_server) -> None:
    controller, handler = smtp_server
    sender = SmtpOtpSender(f"smtp://127.0.0.1:{controller.port}", FROM, timeout=5)
    for address in ("one@example.com", "two@example.com"):
        await sender.send(kind="email", destination=address, code="111111", chat_key="web:a", message=MESSAGE)
    assert [e.rcpt_tos for e in handler.envelopes] == [["one@example.com"], ["two@example.com"]]


async def test_closed_port_raises_otp_delivery_error() -> None:
    sender = SmtpOtpSender(f"smtp://127.0.0.1:{free_port()}", FROM, timeout=5)
    with pytest.raises(OtpDeliveryError) as caught:
        await sender.send(
            kind="email", destination="asha@example.com", code="493817", chat_key="web:a", message=MESSAGE
        )
    assert not isinstance(caught.value, OSError)
    assert caught.value.__cause__ is not None
    assert "493817" not in str(caught.value)


async def test_server_rejecting_the_recipient_raises_otp_delivery_error() -> None:
    class Refusing(RecordingHandler):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
            return "550 No such user"

    controller = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        sender = SmtpOtpSender(f"smtp://127.0.0.1:{controller.port}", FROM, timeout=5)
        with pytest.raises(OtpDeliveryError):
            await sender.send(
                kind="email", destination="nobody@example.com", code="1", chat_key="web:a", message=MESSAGE
            )
    finally:
        controller.stop()
