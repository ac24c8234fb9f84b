"""twilio's own REST client on its async HTTP client (aiohttp), optionally pointed at a local
Twilio: each product's domain reads `base_url` when it builds a request URL."""

from __future__ import annotations

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.whatsapp.settings import TwilioSettings

TIMEOUT_SECONDS = 15.0


class TwilioGateway:
    """Builds the client on first use, inside the event loop (its HTTP client opens an aiohttp
    session when it is created), and closes it on shutdown."""

    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = _make_client(self.settings)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            session = getattr(self._client.http_client, "session", None)
            if session is not None and not session.closed:
                await session.close()
            self._client = None


def _make_client(settings: TwilioSettings) -> Client:
    client = Client(
        settings.account_sid,
        settings.auth_token,
        http_client=AsyncTwilioHttpClient(timeout=TIMEOUT_SECONDS),
    )
    # TWILIO_EDGE / TWILIO_REGION in the environment would rewrite the host (and bypass a local
    # Twilio); we talk to the global endpoints, or to api_base_url.
    client.edge = client.region = None
    if settings.api_base_url:
        base = settings.api_base_url.rstrip("/")
        for domain in (client.api, client.verify, client.content):
            domain.base_url = base
    return client
