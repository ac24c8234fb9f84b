"""Notifications on WhatsApp: free text inside the 24-hour window (buttons become 'Reply "Retry
417"' lines, since numbered replies belong to the current question), the approved template
outside it; in order with the chat's replies."""

from __future__ import annotations

from bot.whatsapp.channel import WhatsAppChannel
from notifications.sender import Delivery, Notice

MAX_BODY = 1500  # under Twilio's 1600, like every text we send


class WhatsAppNotifier:
    channel = "whatsapp"
    chat_interval = 0.0  # no per-chat limit to keep

    def __init__(self, whatsapp: WhatsAppChannel) -> None:
        self.whatsapp = whatsapp

    async def wait_for_chat(self, address: str) -> None:
        """The dispatcher waits here, holding no sending slot, while the chat's own updates and
        their replies are in progress."""
        await self.whatsapp.chat_order.wait_turn(address)

    async def deliver(self, address: str, notice: Notice) -> Delivery:
        hint = f"\n\n{notice.typed_hint}" if notice.typed_hint else ""
        body = notice.text
        if len(body) + len(hint) > MAX_BODY:  # shorten the text, never the way to press a button
            body = body[: MAX_BODY - len(hint) - 1] + "…"
        text = body + hint
        async with self.whatsapp.chat_order.hold(address):
            return await self.whatsapp.send_notice(
                address,
                text,
                template=notice.template,
                variables=notice.variables,
                outbox_id=notice.outbox_id,
            )
