"""The web chat in a real browser: a new patient signs up and edits their profile in headless Chromium,
against a server started the way a new user starts one (`telecare keys init`, `migrate`, `serve`).

Needs Debian's Chromium at /usr/bin/chromium (never `playwright install`: there may be no internet).
Without it the test is skipped locally and fails in CI (where CI=... is set and Chromium is installed).
Labels come from conversations/copy/en.py and are matched partially, so small copy edits don't break it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
STARTUP_TIMEOUT_S = 30
STEP_TIMEOUT_MS = 10_000
XSS_NAME = "<script>alert(1)</script>"


@dataclass
class Server:
    base_url: str
    log_path: Path
    env: dict[str, str]

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_cli(cli: Path, args: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        [str(cli), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"`telecare {' '.join(args)}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI installs it, so this is a real failure", pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("web-e2e")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TELECARE_")}
    env.update(
        TELECARE_DATABASE_URL=f"sqlite+aiosqlite:///{workdir}/t.db",
        TELECARE_KEY_FILE=str(workdir / "keys.json"),
        TELECARE_AUDIT_HEAD_FILE=str(workdir / "audit-heads.log"),
        TELECARE_ENV="development",
        TELECARE_PUBLIC_BASE_URL=base_url,
    )
    cli = Path(sys.executable).parent / "telecare"
    if not cli.exists():
        pytest.fail(f"{cli} not found: install the project (pip install -e '.[dev]')", pytrace=False)
    _run_cli(cli, ["keys", "init"], env, workdir)
    _run_cli(cli, ["migrate"], env, workdir)

    log_path = workdir / "server.log"
    failed_before = request.session.testsfailed
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(base_url, log_path, env)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"the server exited with {process.returncode}:\n{server.log_tail()}", pytrace=False
                )
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"/healthz not ready after {STARTUP_TIMEOUT_S} s:\n{server.log_tail()}", pytrace=False
                )
            time.sleep(0.1)  # polling the health check, not waiting on the page
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if request.session.testsfailed > failed_before:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "web-server.log").write_text(server.log_tail(200_000))
            sys.stderr.write(f"\n--- telecare server output ---\n{server.log_tail()}\n")


@pytest.fixture(scope="module")
def browser(chromium: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def phone(browser):
    """A fresh browser context the size of a phone, closed after the test."""
    from playwright.sync_api import expect

    expect.set_options(timeout=STEP_TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-IN")
    try:
        yield context
    finally:
        context.close()


class Chat:
    """The page, driven like a patient would: tap a button or type, then wait for the bot's answer."""

    def __init__(self, page) -> None:
        from playwright.sync_api import expect

        self.page = page
        self.expect = expect
        # The conversation's own replies; notifications arrive on their own, whenever dispatched.
        self.bots = page.locator("#messages .msg.bot:not(.from-notification)")
        self.users = page.locator("#messages .msg.user")

    def _await_answer(self, bots_before: int, answer: str | re.Pattern[str] | None) -> None:
        self.expect(self.bots.nth(bots_before)).to_be_attached()
        self.expect(self.page.locator("#typing")).to_be_hidden()
        if answer is not None:
            self.expect(self.bots.last).to_contain_text(answer)

    def tap(self, label: str | re.Pattern[str], answer: str | re.Pattern[str] | None = None) -> None:
        button = self.page.locator("#messages .choice:not([disabled])", has_text=label)
        self.expect(button).to_have_count(1)
        users_before, bots_before = self.users.count(), self.bots.count()
        text = button.inner_text()
        button.click()
        self.expect(self.users).to_have_count(users_before + 1)
        self.expect(self.users.last).to_contain_text(text.strip())
        self._await_answer(bots_before, answer)

    def type(self, text: str, answer: str | re.Pattern[str] | None = None, *, enter: bool = True) -> None:
        users_before, bots_before = self.users.count(), self.bots.count()
        self.page.fill("#input", text)
        if enter:
            self.page.press("#input", "Enter")
        else:
            self.page.click("#send")
        self.expect(self.users).to_have_count(users_before + 1)
        self.expect(self.page.locator("#input")).to_have_value("")
        self._await_answer(bots_before, answer)


def test_new_patient_signs_up_and_edits_profile(browser, server: Server) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=STEP_TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-IN")
    page = context.new_page()
    dialogs: list[str] = []
    page_errors: list[str] = []
    csp_violations: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            csp_violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    chat = Chat(page)
    try:
        page.goto(f"{server.base_url}/")
        expect(page).to_have_title(re.compile("telecare"))
        expect(page.locator("#messages")).to_have_attribute("aria-live", "polite")
        expect(chat.bots.first).to_contain_text("Welcome to telecare")
        expect(page.locator("#send")).to_be_disabled()  # nothing typed yet

        chat.tap(re.compile("sign up", re.IGNORECASE), answer="agree")
        chat.tap("I agree", answer="full name")

        # A name that is markup is shown literally and never runs.
        chat.type(XSS_NAME, answer="full name")
        expect(chat.users.last).to_contain_text(XSS_NAME)
        expect(page.locator("#messages script")).to_have_count(0)
        assert dialogs == [], f"the page opened a dialog: {dialogs}"

        chat.type("Asha Verma", answer="date of birth", enter=False)
        chat.type("23-04-1990", answer=re.compile(r"\bsex\b", re.IGNORECASE))
        chat.tap("Female", answer=re.compile("email", re.IGNORECASE))
        expect(page.locator("#hint")).to_contain_text(re.compile("mobile number or email", re.IGNORECASE))
        chat.type("asha@example.com", answer="6-digit")

        # The developer panel shows the OTP that development mode "sends".
        page.click("#dev-toggle")
        expect(page.locator("#dev-panel")).to_be_visible()
        expect(page.locator("#dev-toggle")).to_have_attribute("aria-expanded", "true")
        expect(page.locator(".persona[data-persona]").first).to_be_visible()
        newest = page.locator("#dev-panel .dev-entry").first
        expect(newest).to_contain_text(re.compile(r"\d{6}"))
        code = re.search(r"\d{6}", newest.inner_text())
        assert code is not None
        page.click("#dev-toggle")
        expect(page.locator("#dev-panel")).to_be_hidden()

        chat.type(code.group(0), answer="language")
        chat.tap("English", answer=re.compile("time zone", re.IGNORECASE))
        chat.tap("Kolkata")

        expect(page.locator("#messages")).to_contain_text(re.compile(r"all set, Asha Verma"))
        profile_button = page.locator("#messages .choice:not([disabled])", has_text="My medical profile")
        expect(profile_button).to_be_visible()

        # The welcome arrives by itself (a notification through the outbox), labelled as one,
        # and leaves the menu's buttons alone.
        welcome = page.locator("#messages .from-notification")
        expect(welcome).to_contain_text("Welcome to telecare, Asha Verma!")
        expect(welcome.locator(".notification-label")).to_have_text("Notification")
        expect(welcome).not_to_have_class(re.compile("urgent"))

        # Only the latest prompt's buttons are live; earlier ones are disabled.
        expect(
            page.locator("#messages .choice", has_text=re.compile("sign up", re.IGNORECASE))
        ).to_be_disabled()
        expect(page.locator("#messages .choice", has_text="Female")).to_be_disabled()
        live = page.locator("#messages .choice:not([disabled])")
        expect(live).to_have_count(chat.bots.last.locator(".choice").count())
        assert live.count() >= 2

        # Profile: add an allergy; the bot's later answer lists it.
        chat.tap("My medical profile")
        chat.tap("Allergies")
        chat.tap(re.compile(r"\bAdd\b"))
        bots_before = chat.bots.count()
        chat.type("Penicillin")
        later = chat.bots.filter(has_text=re.compile("Penicillin"))
        expect(later.last).to_be_visible()
        later_texts = chat.bots.all_inner_texts()[bots_before:]
        assert any("Penicillin" in text for text in later_texts), later_texts

        chat.bots.last.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "web-signup.png"), animations="disabled")
        assert dialogs == [], f"the page opened a dialog: {dialogs}"
        assert page_errors == [], f"JavaScript errors: {page_errors}"
        assert csp_violations == [], f"Content-Security-Policy violations: {csp_violations}"
    except BaseException:
        try:
            page.screenshot(path=str(ARTIFACTS / "web-signup-failure.png"), full_page=True)
        except Exception as exc:  # the page may already be gone
            print(f"(no failure screenshot: {exc})")
        print(f"--- telecare server output ---\n{server.log_tail()}")
        raise
    finally:
        context.close()


def _nudge_newest_user(server: Server, key: str) -> None:
    """A notification with a button for the newest user, written to the outbox as the domain
    would, in the server's database."""
    import asyncio
    import concurrent.futures

    from backend.crypto import FieldCipher, load_key_ring
    from backend.db import create_engine, create_sessionmaker
    from tests.notifications.helpers import enqueue_nudge

    async def enqueue() -> None:
        engine = create_engine(server.env["TELECARE_DATABASE_URL"])
        cipher = FieldCipher(load_key_ring(Path(server.env["TELECARE_KEY_FILE"]), None))
        try:
            async with create_sessionmaker(engine, cipher.ring)() as session, session.begin():
                await enqueue_nudge(session, cipher, key=key, name="Ravi")
        finally:
            await engine.dispose()

    # Playwright's sync API keeps an event loop on this thread: run ours on another.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, enqueue()).result()


def test_a_notification_button_works_beside_the_current_question(server: Server, phone) -> None:
    from playwright.sync_api import expect

    page = phone.new_page()
    chat = Chat(page)
    page.goto(f"{server.base_url}/")
    chat.tap(re.compile("sign up", re.IGNORECASE), answer="agree")
    chat.tap("I agree", answer="full name")
    chat.type("Ravi Kumar", answer="date of birth")
    chat.type("01-02-1985", answer=re.compile(r"\bsex\b", re.IGNORECASE))
    chat.tap(re.compile(r"^\s*Male\s*$"), answer=re.compile("email", re.IGNORECASE))
    chat.type("ravi@example.com", answer="6-digit")
    page.click("#dev-toggle")
    code = re.search(r"\d{6}", page.locator("#dev-panel .dev-entry").first.inner_text())
    page.click("#dev-toggle")
    chat.type(code.group(0), answer="language")
    chat.tap("English", answer=re.compile("time zone", re.IGNORECASE))
    chat.tap("Kolkata", answer="What would you like to do?")

    # Live: the notification comes by itself; its button and the menu's both work.
    _nudge_newest_user(server, "e2e:1")
    notice = page.locator("#messages .from-notification", has_text="better advice")
    expect(notice).to_be_visible()
    button = notice.locator(".choice", has_text="Complete my profile")
    expect(button).to_be_enabled()
    chat.tap("Help")  # the conversation goes on …
    expect(button).to_be_enabled()  # … and the notification's button stays usable
    button.click()
    expect(chat.bots.filter(has_text="Let's add to your medical profile.")).to_have_count(1)
    expect(button).to_be_disabled()  # used: one decision per notification

    # Closed: it waits, and is shown (with a live button) when the chat opens again.
    page.close()
    _nudge_newest_user(server, "e2e:2")
    time.sleep(1.5)  # the dispatcher polls every second
    page = phone.new_page()
    page.goto(f"{server.base_url}/")
    waiting = page.locator("#messages .from-notification .choice", has_text="Complete my profile")
    expect(waiting).to_be_enabled()
    page.screenshot(path=str(ARTIFACTS / "web-notification.png"))


def test_hindi_page_words_emergency_numbers_to_call_and_history_after_reload(server: Server, phone) -> None:
    """The page's own words follow the chat into Hindi; emergency numbers are tap-to-call links,
    kept in view on a phone; a reload shows the conversation again, its old buttons as words."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = phone.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    chat = Chat(page)
    page.goto(f"{server.base_url}/")
    expect(page.locator("#input")).to_have_attribute("placeholder", "Type a message…")
    chat.tap(re.compile("sign up", re.IGNORECASE), answer="agree")
    chat.tap("I agree", answer="full name")
    chat.type("Meera Iyer", answer="date of birth")
    chat.type("12-08-1979", answer=re.compile(r"\bsex\b", re.IGNORECASE))
    chat.tap("Female", answer=re.compile("email", re.IGNORECASE))
    chat.type("meera@example.com", answer="6-digit")
    page.click("#dev-toggle")
    code = re.search(r"\d{6}", page.locator("#dev-panel .dev-entry").first.inner_text())
    page.click("#dev-toggle")
    chat.type(code.group(0))
    chat.tap("Hindi")

    # Hindi from here: the page's own words too, not only the bot's.
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    expect(page.locator("#input")).to_have_attribute("placeholder", "संदेश लिखें…")
    expect(page.locator("#send")).to_have_attribute("aria-label", "भेजें")
    expect(page.locator(".footer")).to_contain_text("आपात स्थिति के लिए नहीं")
    expect(page.locator("#conn-label")).to_have_text("ऑनलाइन")
    expect(page.locator(".intro-text")).to_contain_text("जल्द आ रहा है")
    chat.tap("Kolkata")

    chat.type("I have severe chest pain")
    card = chat.bots.filter(has=page.locator(".urgent-tag")).last
    for number in ("112", "108"):
        expect(card.locator(f'a.tel[href="tel:{number}"]')).to_have_text(number)
    expect(card.locator('a[href^="tel:"]')).to_have_count(2)  # only the emergency numbers
    sos = page.locator("#sos")
    expect(sos).to_be_visible()
    expect(sos.locator('a[href="tel:112"]')).to_be_visible()
    expect(sos.locator('a[href="tel:108"]')).to_be_visible()
    chat.type("help")  # the conversation goes on; the card scrolls up, the numbers stay
    chat.type("menu")
    expect(sos).to_be_in_viewport()
    page.screenshot(path=str(ARTIFACTS / "web-emergency-phone.png"))
    # A reload before dismissing keeps the numbers at the top, in Hindi.
    page.reload()
    expect(sos).to_be_visible()
    expect(sos.locator('a[href="tel:112"]')).to_be_visible()
    expect(sos.locator(".sos-title")).to_have_text("आपात स्थिति? अभी कॉल करें:")
    sos.locator("#sos-close").click()
    expect(sos).to_be_hidden()

    # A reload shows the conversation again (old buttons as words), in Hindi.
    page.reload()
    history = page.locator("#messages .from-history")
    expect(history.filter(has_text="Meera Iyer").first).to_be_attached()
    expect(history.filter(has_text="I have severe chest pain")).to_have_count(1)
    expect(history.locator(".past-choice").first).to_be_attached()
    expect(history.locator("button")).to_have_count(0)
    expect(history.filter(has_text=code.group(0))).to_have_count(0)  # the code is not kept
    expect(page.locator("#messages .choice:not([disabled])").first).to_be_visible()  # live again
    expect(page.locator("#input")).to_have_attribute("placeholder", "संदेश लिखें…")
    expect(sos).to_be_hidden()  # dismissed stays dismissed
    expect(page.locator("#dev-toggle .dev-toggle-label")).to_have_text("डेवलपर")
    page.screenshot(path=str(ARTIFACTS / "web-history-phone.png"))
    assert page_errors == [], f"JavaScript errors: {page_errors}"


def test_a_long_paste_is_sent_whole_and_read_for_an_emergency_before_too_long(server: Server, phone) -> None:
    """A paste longer than the chat answers is never cut by the page: the emergency at its end
    brings the card; only what the socket cannot carry is refused, and stays in the box."""
    from playwright.sync_api import expect

    page = phone.new_page()
    chat = Chat(page)
    page.goto(f"{server.base_url}/")
    expect(page.locator("#input")).to_be_enabled()
    story = "My father has had a cough for a week and we tried steam at home. " * 70
    pasted = story + "Now he has severe chest pain and is sweating"
    assert len(pasted) > 4000
    chat.type(pasted)
    expect(chat.users.last).to_contain_text("severe chest pain and is sweating")
    card = chat.bots.filter(has=page.locator(".urgent-tag")).last
    expect(card.locator('a.tel[href="tel:112"]')).to_be_visible()
    # A crisis card later adds its helpline to the numbers kept in view; none is dropped.
    chat.type("I don't want to live anymore, I have the pills ready")
    sos = page.locator("#sos")
    for number in ("112", "108", "14416"):
        expect(sos.locator(f'a[href="tel:{number}"]')).to_be_visible()
    # The gentle note beside a mention of the past makes its numbers tap-to-call too.
    chat.type("I had a heart attack in 2019, fine now, I need a refill of my statin")
    note = chat.bots.filter(has_text="happening now").last
    expect(note.locator('a.tel[href="tel:112"]')).to_have_text("112")
    note.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "web-long-paste-phone.png"))

    huge = "दर्द " * 7000  # 35,000 characters, over 32,000 bytes: the socket cannot carry it
    users_before = chat.users.count()
    page.fill("#input", huge)
    page.press("#input", "Enter")
    expect(page.locator("#messages .notice-error").last).to_contain_text("too long")
    expect(chat.users).to_have_count(users_before)
    assert page.locator("#input").input_value() == huge
