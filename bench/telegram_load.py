"""Telegram load: K simulated users sign up at once through the real webhook, over real HTTP.

The real app (bot.app.create_app) is served by uvicorn in this process on 127.0.0.1, on a fresh
database (SQLite in a temp dir, or a throwaway PostgreSQL database), and talks to the fake Bot API
(tests/fakes/telegram_api.py), also in this process. Each user goes through the whole signup:
/start -> sign up -> I agree -> name -> date of birth -> Female -> own contact -> English ->
Kolkata, and waits for the bot's replies before its next update, as a person would. The users'
connections are opened before the clock starts (Telegram keeps its webhook connections open), and
their first updates are spread over the first --ramp seconds (default 1; 0 = all at once).

Telegram's flood limits are lifted on both sides (fake and bot: 1000/s per chat, 100000/s per
bot): this measures our processing, not Telegram's limits. A bare aiogram echo bot behind the same
webhook route shape, against the same fake, with the same users and update count, is the baseline.

Usage:
    python bench/telegram_load.py [--users 200] [--database sqlite|postgresql|both]
                                  [--postgres-url URL] [--timeout 240] [--profile DIR]
                                  [--ramp 1.0] [--shared-client]

The last line of output is one JSON object (see docs/performance.md). With --database both each
database runs in its own child process (so peak RSS is per database); when PostgreSQL cannot be
reached, only SQLite runs and the output says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import itertools
import json
import math
import os
import resource
import secrets
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.fakes (the project packages are installed)

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.types import CallbackQuery, Message, Update  # noqa: E402
from fastapi import FastAPI, Request, Response  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from backend.crypto import KeyRing  # noqa: E402
from backend.settings import Settings  # noqa: E402
from bench.databases import fresh_database, pg_admin, postgres_problem  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.telegram.settings import TelegramMode, TelegramSettings  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-Secret_token"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Flood limits lifted: high enough never to be the bottleneck, on the fake and in the bot alike.
PER_CHAT, PER_BOT = 1000, 100_000
FAKE_LIMITS = {
    "per_chat_rate": PER_CHAT,
    "per_chat_burst": PER_CHAT,
    "per_bot_rate": PER_BOT,
    "per_bot_burst": PER_BOT,
}
POLL_SECONDS = 0.005  # how often the users look at the fake's recorded calls
STEP_TIMEOUT = 30.0  # one update: POST plus its replies
HTTP_TIMEOUT = 30.0
STARTUP_TIMEOUT = 30.0
FIRST_USER_ID = 100_000_000
CALIBRATION_USER_ID = 99_000_000
NOTE = (
    f"note: Telegram's flood limits are lifted (fake Bot API and bot: {PER_CHAT}/s per chat, "
    f"{PER_BOT}/s per bot); this measures our processing, not Telegram's limits. The fake Bot API, "
    "the simulated users and the server share this one process and event loop."
)

# (kind, argument): "say" text, "press" a button whose label contains the argument, "contact".
SIGNUP: list[tuple[str, str]] = [
    ("say", "/start"),
    ("press", "sign up"),
    ("press", "I agree"),
    ("say", "Asha Verma"),
    ("say", "23-04-1990"),
    ("press", "Female"),
    ("contact", ""),
    ("press", "English"),
    ("press", "Kolkata"),
]
ECHO: list[tuple[str, str]] = [("say", f"hello {n}") for n in range(len(SIGNUP))]
SIGNUP_DONE = "all set"  # in the last reply of a finished signup (English copy)


# --- numbers ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class Stats:
    webhook: list[float] = field(default_factory=list)  # POST until HTTP 200
    e2e: list[float] = field(default_factory=list)  # POST until the last reply reached the fake
    completed: int = 0  # updates whose replies all arrived
    non_200: int = 0
    http_errors: int = 0
    http_error_kinds: Counter = field(default_factory=Counter)
    retries: int = 0  # webhook POSTs retried once on a fresh connection (see SimUser.post)
    timeouts: int = 0
    flow_errors: int = 0  # an expected button or final message missing
    refused_api_calls: int = 0  # calls the fake Bot API refused (4xx/5xx/429)
    api_calls: int = 0
    finished_users: int = 0
    users: int = 0
    wall: float = 0.0
    replies_per_step: list[Counter] = field(default_factory=list)  # what the calibration saw

    def failure(self, error: Exception) -> None:
        self.http_errors += 1
        self.http_error_kinds[type(error).__name__] += 1

    @property
    def errors(self) -> int:
        failed_updates = self.non_200 + self.http_errors + self.timeouts + self.flow_errors
        silent = max(0, self.users - self.finished_users - failed_updates)  # cut off by the run timeout
        return failed_updates + self.refused_api_calls + silent

    @property
    def per_second(self) -> float:
        return self.completed / self.wall if self.wall else 0.0


# --- watching the fake Bot API ------------------------------------------------------------------


class CallWatch:
    """Indexes the fake's recorded calls by chat every few milliseconds and wakes the users waiting
    for that chat. answerCallbackQuery carries no chat_id: it is matched by callback_query_id."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.cursor = 0
        self.by_chat: defaultdict[int, list] = defaultdict(list)
        self.ok_counts: defaultdict[int, Counter] = defaultdict(Counter)
        self.query_chat: dict[str, int] = {}
        self.waiters: dict[int, asyncio.Event] = {}
        self.refused = 0

    def refresh(self) -> None:
        calls = self.fake.calls
        fresh, self.cursor = calls[self.cursor :], len(calls)
        touched = set()
        for call in fresh:
            if not call.ok:
                self.refused += 1
            if call.method == "answerCallbackQuery":
                chat = self.query_chat.get(str(call.params.get("callback_query_id")))
            else:
                chat = call.params.get("chat_id")
            if not isinstance(chat, int):
                continue
            self.by_chat[chat].append(call)
            if call.ok:
                self.ok_counts[chat][call.method] += 1
            touched.add(chat)
        for chat in touched:
            waiter = self.waiters.pop(chat, None)
            if waiter is not None:
                waiter.set()

    async def run(self) -> None:
        while True:
            self.refresh()
            await asyncio.sleep(POLL_SECONDS)

    def satisfied(self, chat: int, need: Counter) -> bool:
        have = self.ok_counts[chat]
        return all(have[method] >= count for method, count in need.items())

    async def wait(self, chat: int, need: Counter, deadline: float) -> bool:
        while not self.satisfied(chat, need):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            waiter = self.waiters.setdefault(chat, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), remaining)
        return True


# --- a simulated Telegram user ------------------------------------------------------------------

_ids = itertools.count(1_000_000)


class Failed(Exception):
    pass


class SimUser:
    def __init__(self, http: httpx.AsyncClient, watch: CallWatch, stats: Stats, user_id: int, phone: str):
        self.http, self.watch, self.stats = http, watch, stats
        self.id, self.phone = user_id, phone
        self.need: Counter = Counter()  # all the replies expected so far, by method

    def _chat(self) -> dict:
        return {"id": self.id, "type": "private", "first_name": "Asha"}

    def _sender(self) -> dict:
        return {"id": self.id, "is_bot": False, "first_name": "Asha"}

    def _message(self, **content: Any) -> dict:
        message = {"message_id": next(_ids), "date": int(time.time()), "chat": self._chat()}
        return {"update_id": next(_ids), "message": {**message, "from": self._sender(), **content}}

    def sent(self) -> list:
        return [c for c in self.watch.by_chat[self.id] if c.ok and c.method == "sendMessage"]

    def button(self, label: str) -> tuple[int, str]:
        for call in reversed(self.sent()):
            for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label.casefold() in button["text"].casefold() and "callback_data" in button:
                        return call.response["result"]["message_id"], button["callback_data"]
        raise Failed(f"no button {label!r}")

    def update_for(self, kind: str, argument: str) -> dict:
        if kind == "say":
            return self._message(text=argument)
        if kind == "contact":
            contact = {"phone_number": self.phone, "first_name": "Asha", "user_id": self.id}
            return self._message(contact=contact)
        message_id, data = self.button(argument)
        query_id = f"cq{next(_ids)}"
        self.watch.query_chat[query_id] = self.id
        return {
            "update_id": next(_ids),
            "callback_query": {
                "id": query_id,
                "from": self._sender(),
                "chat_instance": f"ci{self.id}",
                "data": data,
                "message": {"message_id": message_id, "date": int(time.time()), "chat": self._chat()},
            },
        }

    async def post(self, update: dict) -> float:
        """POST like Telegram does: a connection the server closed meanwhile (uvicorn drops idle
        keep-alive connections after 5 s) is retried once on a new one; the update_id makes a
        redelivery harmless. Counted in `retries`, and the latency includes the failed attempt."""
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                response = await self.http.post(
                    "/webhooks/telegram", json=update, headers={SECRET_HEADER: SECRET}
                )
                break
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as failure:
                if attempt == 1:
                    self.stats.retries += 1
                    continue
                self.stats.failure(failure)
                raise Failed(f"HTTP {type(failure).__name__}") from failure
            except httpx.HTTPError as failure:
                self.stats.failure(failure)
                raise Failed(f"HTTP {type(failure).__name__}") from failure
        if response.status_code != 200:
            self.stats.non_200 += 1
            raise Failed(f"HTTP {response.status_code}")
        self.stats.webhook.append(time.monotonic() - started)
        return started

    async def step(self, kind: str, argument: str, expected: Counter) -> None:
        """One update, then wait until the replies the calibration saw for it have all arrived."""
        try:
            update = self.update_for(kind, argument)
        except Failed:
            self.stats.flow_errors += 1
            raise
        self.need += expected
        before = len(self.watch.by_chat[self.id])
        started = await self.post(update)
        if not await self.watch.wait(self.id, self.need, started + STEP_TIMEOUT):
            self.stats.timeouts += 1
            raise Failed(f"no reply to {kind} {argument!r} within {STEP_TIMEOUT:.0f} s")
        arrived = [c.time for c in self.watch.by_chat[self.id][before:]]
        self.stats.e2e.append((max(arrived) if arrived else time.monotonic()) - started)
        self.stats.completed += 1

    async def calibrate_step(self, kind: str, argument: str, settle: Callable[[], Awaitable]) -> Counter:
        """One update with the server drained afterwards: which replies does this step bring?"""
        before = len(self.watch.by_chat[self.id])
        await self.post(self.update_for(kind, argument))
        await settle()
        self.watch.refresh()
        fresh = self.watch.by_chat[self.id][before:]
        if any(not c.ok for c in fresh):
            raise RuntimeError(f"calibration: the fake refused a call after {kind} {argument!r}")
        counts = Counter(c.method for c in fresh)
        if not counts["sendMessage"]:
            raise RuntimeError(f"calibration: no reply to {kind} {argument!r}")
        return counts

    async def run(
        self, script: list[tuple[str, str]], expected: list[Counter], check: str | None, delay: float = 0.0
    ) -> None:
        await asyncio.sleep(delay)
        try:
            for (kind, argument), counts in zip(script, expected, strict=True):
                await self.step(kind, argument, counts)
            if check and not any(check in (c.params.get("text") or "") for c in self.sent()[-3:]):
                self.stats.flow_errors += 1
                raise Failed(f"the last replies lack {check!r}")
        except Failed:
            return
        except Exception:  # a bug of this script or a surprise from the server: count it, go on
            self.stats.flow_errors += 1
            return
        self.stats.finished_users += 1


# --- the servers under test ---------------------------------------------------------------------


def echo_app(fake: FakeTelegram) -> FastAPI:
    """The baseline: a bare aiogram echo bot behind the same webhook route shape."""
    bot = Bot(token=fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "ok")

    @dp.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        await bot.session.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/webhooks/telegram", include_in_schema=False)
    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), SECRET.encode()):
            return Response(status_code=401)
        data = await request.json()
        await dp.feed_update(bot, Update.model_validate(data, context={"bot": bot}))
        return Response(status_code=200)

    return app


def telecare_app(fake: FakeTelegram, database_url: str) -> FastAPI:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        keys_json=KeyRing.generate().to_json(),
        audit_head_file=Path(tempfile.mkdtemp(prefix="telecare-bench-")) / "audit-heads.log",
        log_level="WARNING",
    )
    telegram = TelegramSettings(
        _env_file=None,
        bot_token=fake.token,
        mode=TelegramMode.WEBHOOK,
        webhook_secret=SECRET,
        api_base_url=fake.base_url,
        per_chat_per_second=PER_CHAT,
        per_bot_per_second=PER_BOT,
    )
    return create_app(settings, telegram)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(app: FastAPI):
    """uvicorn in this event loop, on a free port of 127.0.0.1; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(), name="uvicorn")
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("uvicorn did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, STARTUP_TIMEOUT)


# --- one load phase -----------------------------------------------------------------------------


async def load(
    app_factory: Callable[[FakeTelegram], FastAPI],
    settle_of: Callable[[FastAPI], Callable[[], Awaitable]],
    script: list[tuple[str, str]],
    users: int,
    phase_seconds: float,
    *,
    ramp_seconds: float = 1.0,
    shared_client: bool = False,
    check: str | None = None,
    profile_to: Path | None = None,
    label: str = "",
) -> Stats:
    stats = Stats(users=users)
    async with FakeTelegram(**FAKE_LIMITS) as fake:
        app = app_factory(fake)
        async with serving(app) as base_url, contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(c) for c in http_clients(base_url, users, shared_client)
            ]
            # Telegram keeps its webhook connections open; so do the users, before the clock starts.
            await asyncio.gather(*(client.get("/healthz") for client in clients))
            watch = CallWatch(fake)
            poller = asyncio.create_task(watch.run(), name="call-watch")
            try:
                # Warm-up and calibration: one user, server drained after each update.
                probe = SimUser(clients[-1], watch, Stats(), CALIBRATION_USER_ID, "+919876400001")
                settle = settle_of(app)
                expected = [await probe.calibrate_step(k, a, settle) for k, a in script]
                calibration_calls = watch.cursor
                stats.replies_per_step = expected
                crowd = [
                    SimUser(clients[n % len(clients)], watch, stats, FIRST_USER_ID + n, f"+9198765{n:05d}")
                    for n in range(users)
                ]
                progress(f"{label}: {users} users start (pid {os.getpid()})")
                profiler = start_profiler() if profile_to else None
                started = time.monotonic()
                # Users arrive spread evenly over the first ramp_seconds, not all in one millisecond.
                tasks = [
                    asyncio.create_task(u.run(script, expected, check, ramp_seconds * n / users))
                    for n, u in enumerate(crowd)
                ]
                _done, pending = await asyncio.wait(tasks, timeout=phase_seconds)
                stats.wall = time.monotonic() - started
                if profiler:
                    stop_profiler(profiler, profile_to)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                await asyncio.wait_for(settle(), STEP_TIMEOUT)
                watch.refresh()
                stats.refused_api_calls = watch.refused
                stats.api_calls = watch.cursor - calibration_calls
            finally:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
    return stats


def http_clients(base_url: str, users: int, shared: bool) -> list[httpx.AsyncClient]:
    """One httpx client, with one keep-alive connection, per simulated user (and one for the
    calibration user): `users + 1` connections in all. A single client with a pool of 200 costs
    more CPU than the server under test: httpcore's pool scans all its connections, for each
    connection, on every request (O(n^2); httpcore 1.0.x). --shared-client shows it."""
    tls = ssl.create_default_context()  # unused on http://, but each client would load its own
    if shared:
        limits = httpx.Limits(max_connections=users + 8, max_keepalive_connections=users + 8)
        return [httpx.AsyncClient(base_url=base_url, limits=limits, timeout=HTTP_TIMEOUT, verify=tls)]
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return [
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=HTTP_TIMEOUT, verify=tls)
        for _ in range(users + 1)
    ]


def progress(message: str) -> None:
    """To stderr, at once: stdout ends with the JSON line."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def start_profiler():
    from pyinstrument import Profiler  # optional: pip install pyinstrument

    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    return profiler


def stop_profiler(profiler, path: Path) -> None:
    profiler.stop()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".txt").write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    path.with_suffix(".html").write_text(profiler.output_html())
    profiler.last_session.save(str(path.with_suffix(".pyisession")))  # pyinstrument --load=...
    print(f"profile: {path.with_suffix('.txt')} and .html")


def telecare_settle(app: FastAPI) -> Callable[[], Awaitable]:
    return app.state.telegram.idle


def echo_settle(_app: FastAPI) -> Callable[[], Awaitable]:
    async def nothing() -> None:  # the echo bot answers before its 200
        return None

    return nothing


# --- one database -------------------------------------------------------------------------------


def kinds(stats: Stats) -> str:
    return f" {dict(stats.http_error_kinds)}" if stats.http_error_kinds else ""


def summary(database: str, users: int, telecare: Stats, echo: Stats) -> dict:
    ratio = telecare.per_second / echo.per_second if echo.per_second else 0.0
    result = {
        "updates_per_s": round(telecare.per_second, 1),
        "p50_ms": ms(percentile(telecare.webhook, 0.50)),
        "p95_ms": ms(percentile(telecare.webhook, 0.95)),
        "p99_ms": ms(percentile(telecare.webhook, 0.99)),
        "e2e_p50_ms": ms(percentile(telecare.e2e, 0.50)),
        "e2e_p99_ms": ms(percentile(telecare.e2e, 0.99)),
        "echo_updates_per_s": round(echo.per_second, 1),
        "ratio": round(ratio, 3),
        "peak_rss_mb": peak_rss_mb(),
        "database": database,
        "users": users,
        "errors": telecare.errors + echo.errors,
    }
    steps = len(SIGNUP)
    print(f"\n== {database}: {users} concurrent Telegram users, {steps} updates each ==")
    for label, stats in (("telecare signup", telecare), ("echo baseline", echo)):
        print(
            f"{label:16} {stats.completed:5} updates in {stats.wall:6.2f} s = {stats.per_second:7.1f} updates/s;"
            f" {stats.api_calls} Bot API calls ({stats.api_calls / max(stats.completed, 1):.1f}/update)"
        )
        print(
            f"{'':16} webhook latency p50 {ms(percentile(stats.webhook, 0.5))} ms,"
            f" p95 {ms(percentile(stats.webhook, 0.95))} ms, p99 {ms(percentile(stats.webhook, 0.99))} ms;"
            f" end to end p50 {ms(percentile(stats.e2e, 0.5))} ms,"
            f" p95 {ms(percentile(stats.e2e, 0.95))} ms, p99 {ms(percentile(stats.e2e, 0.99))} ms"
        )
        print(
            f"{'':16} users finished {stats.finished_users}/{stats.users}; errors {stats.errors}"
            f" (non-200 {stats.non_200}, HTTP failures {stats.http_errors}{kinds(stats)}, reply timeouts {stats.timeouts},"
            f" flow {stats.flow_errors}, refused Bot API calls {stats.refused_api_calls});"
            f" webhook POSTs retried on a fresh connection {stats.retries}"
        )
    shapes = [
        f"{argument or kind}: " + "+".join(f"{n} {method}" for method, n in sorted(counts.items()))
        for (kind, argument), counts in zip(SIGNUP, telecare.replies_per_step, strict=False)
    ]
    print(f"telecare calls per update (calibrated on one user): {'; '.join(shapes)}")
    print(f"ratio telecare/echo {ratio:.3f}; peak RSS {result['peak_rss_mb']} MB")
    return result


async def run_database(args: argparse.Namespace) -> dict:
    async with fresh_database(args.database, args.postgres_url, args.pg_name) as url:
        shared, ramp = args.shared_client, args.ramp
        label = f"{args.database}"
        echo = await load(
            echo_app,
            echo_settle,
            ECHO,
            args.users,
            args.timeout,
            ramp_seconds=ramp,
            shared_client=shared,
            label=f"{label} echo",
        )
        profile_to = Path(args.profile) / f"telecare-{args.database}" if args.profile else None
        telecare = await load(
            lambda fake: telecare_app(fake, url),
            telecare_settle,
            SIGNUP,
            args.users,
            args.timeout,
            ramp_seconds=ramp,
            shared_client=shared,
            label=f"{label} telecare",
            check=SIGNUP_DONE,
            profile_to=profile_to,
        )
    return summary(args.database, args.users, telecare, echo)


def run_in_process(args: argparse.Namespace) -> dict:
    try:
        import uvloop  # what `uvicorn.run` (telecare serve) uses when installed

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    loop = "uvloop" if loop_factory else "asyncio"
    print(f"event loop: {loop}" if args.pg_name else f"event loop: {loop}; {NOTE}")  # a child: said above
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(run_database(args))


def run_both(args: argparse.Namespace) -> tuple[dict, list[dict]]:
    """Each database in a child process of its own: separate peak RSS, a clean slate."""
    databases = ["sqlite"]
    problem = asyncio.run(postgres_problem(args.postgres_url))
    if problem:
        print(f"PostgreSQL at {make_url(args.postgres_url).render_as_string()} unreachable ({problem}):")
        print("running on SQLite only.")
    else:
        databases.append("postgresql")
    runs = []
    for database in databases:
        pg_name = f"telecare_bench_{secrets.token_hex(4)}"
        command = [sys.executable, __file__, "--database", database, "--users", str(args.users)]
        command += ["--postgres-url", args.postgres_url, "--timeout", str(args.timeout)]
        command += ["--pg-name", pg_name] + (["--profile", args.profile] if args.profile else [])
        command += ["--shared-client"] if args.shared_client else []
        command += ["--ramp", str(args.ramp)]
        try:
            child = subprocess.run(
                command, stdout=subprocess.PIPE, text=True, timeout=2 * args.timeout + 240, check=False
            )
            lines = child.stdout.rstrip("\n").splitlines()
        except subprocess.TimeoutExpired as expired:
            lines = [*(expired.stdout or b"").decode(errors="replace").splitlines(), "(timed out)"]
        result = None
        with contextlib.suppress(ValueError, IndexError):
            result = json.loads(lines[-1])
        print("\n".join(lines[:-1] if result else lines))
        if result is None:
            print(f"the {database} run failed")
            if database == "postgresql":
                with contextlib.suppress(Exception):
                    asyncio.run(
                        pg_admin(args.postgres_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
                    )
            result = failed_run(database, args.users)
        runs.append(result)
    return runs[-1], runs


def failed_run(database: str, users: int) -> dict:
    keys = ("updates_per_s", "p50_ms", "p95_ms", "p99_ms", "e2e_p50_ms", "e2e_p99_ms", "echo_updates_per_s")
    zeros = dict.fromkeys((*keys, "ratio", "peak_rss_mb"), 0.0)
    return {**zeros, "database": database, "users": users, "errors": users}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("TELECARE_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES
    )
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds for one load phase")
    parser.add_argument(
        "--ramp", type=float, default=1.0, help="seconds over which the users' first updates are spread"
    )
    parser.add_argument("--profile", help="directory for pyinstrument profiles of the telecare phase")
    parser.add_argument(
        "--shared-client", action="store_true", help="one httpx client with a pool of --users connections"
    )
    parser.add_argument("--pg-name", help=argparse.SUPPRESS)  # set by --database both for its children
    args = parser.parse_args()
    if args.users < 1:
        parser.error("--users must be at least 1")
    failed = False
    if args.database == "both":
        print(NOTE)
        result, runs = run_both(args)
        failed = any(run["updates_per_s"] == 0 for run in runs)
        if len(runs) > 1:
            result = {**result, "runs": runs}
    else:
        if args.database == "postgresql" and (problem := asyncio.run(postgres_problem(args.postgres_url))):
            print(f"PostgreSQL unreachable: {problem}", file=sys.stderr)
            sys.exit(2)
        result = run_in_process(args)
    print(json.dumps(result))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
