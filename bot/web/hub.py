"""Open web-chat sockets by chat, so that something outside a request (the developer panel's
OTP notices, notifications) can reach the browser of one chat."""

from __future__ import annotations

from collections import defaultdict

from starlette.websockets import WebSocket


class SocketHub:
    def __init__(self) -> None:
        self._sockets: dict[str, set[WebSocket]] = defaultdict(set)

    def add(self, chat_key: str, socket: WebSocket) -> None:
        self._sockets[chat_key].add(socket)

    def remove(self, chat_key: str, socket: WebSocket) -> None:
        sockets = self._sockets.get(chat_key)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._sockets[chat_key]

    def has(self, chat_key: str) -> bool:
        return bool(self._sockets.get(chat_key))

    def chat_keys(self) -> list[str]:
        return list(self._sockets)

    async def send(self, chat_key: str, message: dict, *, skip: WebSocket | None = None) -> int:
        delivered = 0
        for socket in list(self._sockets.get(chat_key, ())):
            if socket is skip:
                continue
            try:
                await socket.send_json(message)
                delivered += 1
            except Exception:  # a socket closing under us: the next reconnect re-registers
                self.remove(chat_key, socket)
        return delivered
