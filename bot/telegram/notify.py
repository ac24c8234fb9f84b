"""Notifications on Telegram: the notice as HTML (escaped), its buttons as an inline keyboard
whose callback data is the button's token, sent through the channel's paced sender and in order
with the chat's replies."""

from __future__ import annotations

from bot.telegram import render
from bot.telegram.channel import TelegramChannel
from bot.telegram.sender import SendFailed, Unreachable
from conversations.messages import Choice, Reply
from notifications.sender import Delivery, Notice


class TelegramNotifier:
    channel = "telegram"

    def __init__(self, telegram: TelegramChannel) -> None:
        self.telegram = telegram
        self.chat_interval = telegram.sender.chat_interval

    async def wait_for_chat(self, address: str) -> None:
        """The dispatcher waits here, holding no sending slot, while the chat's own updates and
        their replies are in progress."""
        await self.telegram.chat_order.wait_turn(address)

    async def deliver(self, address: str, notice: Notice) -> Delivery:
        try:
            chat_id = int(address)
        except ValueError:
            return Delivery.refused("not a Telegram chat id")
        reply = Reply(
            text=notice.text,
            # Not styled as urgent: that is for emergency guidance; an urgent notification only
            # skips quiet hours.
            choices=tuple(Choice(label=a.label, token=a.token) for a in notice.actions),
        )
        result = None
        try:
            async with self.telegram.chat_order.hold(address):
                for method in render.messages(chat_id, reply):
                    result = await self.telegram.sender.call(chat_id, method)
        except Unreachable:
            return Delivery.refused("the user blocked the bot")
        except SendFailed as failure:
            return Delivery.failed(str(failure))
        return Delivery.sent(str(getattr(result, "message_id", "")) or None)
