"""A fake Telegram Bot API server for tests and benchmarks.

It runs inside the test's event loop (aiohttp.web on 127.0.0.1, free port) and answers the way the
real Bot API does, as far as the sources below tell:

* every call is checked against the machine-readable spec ``shared/telegram-bot-api/api.json``
  (Bot API 10.1): unknown method -> 404 "Not Found", wrong token -> 401 "Unauthorized", missing
  required parameters, basic types, JSON-serialized objects parsed and checked field by field;
* message text and captions are parsed like TDLib does (HTML, MarkdownV2, Markdown) and measured
  after parsing, in UTF-16 code units (4096 / 1024);
* keyboards: callback_data 1-64 bytes, button URLs, at most 8 buttons a row and 100 in all;
* token buckets per chat and per bot over the methods that post into a chat -> 429 with
  ``parameters.retry_after``; a refused call takes no token;
* getUpdates with offset / limit / long polling, webhooks, bot commands, files and downloads.

Error descriptions are Telegram's own where known: TDLib's parser messages (its test suite
``test/message_entities.cpp``) and descriptions recorded from the live API. Those marked
``(fake)`` in the code are this fake's own words, for checks stricter than Telegram's
(``strict_params``) or where the real wording is unknown.

Usage::

    async with FakeTelegram() as tg:
        bot = Bot(tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))
        await bot.send_message(1, "hi")
        assert tg.messages_to(1)[0]["text"] == "hi"
        await bot.session.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import re
import secrets
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

TEST_TOKEN = "42:TEST"  # aiogram checks only the shape <digits>:<text>
# A copy of ../shared/telegram-bot-api (MIT, see its README), so the tests need nothing outside the repo.
DEFAULT_SPEC = Path(__file__).resolve().parent / "telegram-bot-api" / "api.json"

MAX_TEXT = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS_PER_ROW = 8  # undocumented (python-telegram-bot's InlineKeyboardMarkupLimit)
MAX_BUTTONS = 100  # undocumented, likewise
MAX_UPLOAD = 50 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024
WEBHOOK_PORTS = (80, 88, 443, 8443)

TOO_LONG = {"text": "message is too long", "caption": "message caption is too long"}
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
# Telegram sends these only when asked for explicitly (setWebhook/getUpdates allowed_updates).
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Media parameter of each send method -> how Telegram names it in "there is no ... in the request".
MEDIA_PARAMS = {
    "sendDocument": "document",
    "sendPhoto": "photo",
    "sendAudio": "audio",
    "sendVideo": "video",
    "sendAnimation": "animation",
    "sendVoice": "voice",
    "sendVideoNote": "video_note",
    "sendSticker": "sticker",
}
# Error wording for parameters that are missing (an empty value counts as missing, as in the Bot API).
MISSING = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "message_id": "message identifier is not specified",
}
# Where a nested object is parsed, the Bot API prefixes the complaint with what it was parsing.
PARSE_PREFIX = {
    "InlineKeyboardButton": "can't parse inline keyboard button: ",
    "KeyboardButton": "can't parse keyboard button: ",
    "MessageEntity": "can't parse MessageEntity: ",
}
JSON_WHAT = {"reply_markup": "reply keyboard markup", "entities": "entities", "caption_entities": "entities"}
# Length limits read from field descriptions ("1-64 bytes") that have their own wording or checks.
LIMIT_WORDING = {
    ("InlineKeyboardButton", "callback_data"): "BUTTON_DATA_INVALID",
    ("CopyTextButton", "text"): "BUTTON_COPY_TEXT_INVALID",
    ("answerCallbackQuery", "text"): "MESSAGE_TOO_LONG",
    ("setWebhook", "secret_token"): "secret token is too long",
}
LIMIT_CHECKED_ELSEWHERE = frozenset({("BotCommand", "command"), ("BotCommand", "description")})
# String fields of InputMedia* and the like that may name an uploaded part as "attach://<name>".
ATTACHABLE = frozenset({"media", "thumbnail", "cover", "sticker", "photo", "video", "animation"})
_LIMIT = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_DISCRIMINATOR = re.compile(r"(?:must be|always) [\"“]?([a-z0-9_]+)\b(?! of)")


# --------------------------------------------------------------------------------------------------
# Records


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Call:
    """One request to the fake, in order of completion. File downloads are recorded as method "file".

    ``params`` are decoded: numbers and booleans converted, JSON-string fields parsed back, file
    parameters given as :class:`Upload`. When a request was refused before decoding they are the
    raw values (JSON strings still parsed where possible). ``time`` is ``time.monotonic()`` at arrival.
    """

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any] | None
    time: float
    http_method: str = "POST"
    files: dict[str, Upload] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == 200


class ApiError(Exception):
    """A Bot API failure: HTTP status = error_code, as Telegram answers."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


class MarkupError(ValueError):
    """Text that Telegram's entity parser rejects (the message is TDLib's)."""


# --------------------------------------------------------------------------------------------------
# Text: UTF-16 length and the three parse modes, following TDLib's parsers (td/telegram/MessageEntity.cpp).

_SPACE = " \t\r\n\0\v"
_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "tg-emoji"}
    | {"tg-time", "code", "pre", "blockquote"}
)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!\n")


def utf16_len(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _html_entity(text: str, pos: int) -> tuple[str | None, int]:
    """TDLib's decode_html_entity: &lt; &gt; &amp; &quot; and numeric references, ';' optional.
    Anything else is no entity at all: the '&' stays literal."""
    n, end = len(text), pos + 1
    if end < n and text[end] == "#":
        end += 1
        code, base, digits = 0, 10, "0123456789"
        if end < n and text[end] == "x":
            end, base, digits = end + 1, 16, "0123456789abcdefABCDEF"
        while end < n and text[end] in digits:
            code = code * base + int(text[end], 16)
            end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos
        decoded = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        found = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if found is None:
            return None, pos
        decoded = found
    if end < n and text[end] == ";":
        end += 1
    return decoded, end


def parse_html(text: str) -> str:
    """The visible text of Telegram HTML, or MarkupError with TDLib's message."""
    n, i = len(text), 0
    out: list[str] = []
    stack: list[str] = []

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    def skip_spaces(k: int) -> int:
        while k < n and text[k] in _SPACE:
            k += 1
        return k

    while i < n:
        c = text[i]
        if c == "&":
            decoded, j = _html_entity(text, i)
            if decoded is not None:
                out.append(decoded)
                i = j
                continue
        if c != "<":
            out.append(c)
            i += 1
            continue
        begin, i = i, i + 1
        at_begin = _byte_offset(text, begin)
        if at(i) == "/":  # an end tag
            if not stack:
                raise MarkupError(f"Unexpected end tag at byte offset {at_begin}")
            while at(i) not in _SPACE and at(i) != ">":
                i += 1
            end_tag = text[begin + 2 : i].lower()
            i = skip_spaces(i)
            if at(i) != ">":
                raise MarkupError(f"Unclosed end tag at byte offset {at_begin}")
            if end_tag and end_tag != stack[-1]:
                raise MarkupError(
                    f'Unmatched end tag at byte offset {at_begin}, expected "</{stack[-1]}>", found "</{end_tag}>"'
                )
            stack.pop()
            i += 1
            continue
        while at(i) not in _SPACE and at(i) != ">":
            i += 1
        if i >= n:
            raise MarkupError(f"Unclosed start tag at byte offset {at_begin}")
        tag = text[begin + 1 : i].lower()
        if tag not in _HTML_TAGS:
            raise MarkupError(f'Unsupported start tag "{tag}" at byte offset {at_begin}')
        attributes: dict[str, str] = {}
        while at(i) != ">":
            i = skip_spaces(i)
            if at(i) == ">":
                break
            name_begin = i
            while at(i) not in _SPACE and at(i) not in "=>/\"'":
                i += 1
            name = text[name_begin:i]
            if not name:
                raise MarkupError(f'Empty attribute name in the tag "{tag}" at byte offset {at_begin}')
            i = skip_spaces(i)
            if at(i) != "=":
                if i >= n:
                    raise MarkupError(f'Unclosed start tag "{tag}" at byte offset {at_begin}')
                attributes[name] = ""
                continue
            i = skip_spaces(i + 1)
            if i >= n:
                raise MarkupError(f'Unclosed start tag "{tag}" at byte offset {at_begin}')
            if at(i) not in "'\"":
                token_begin = i
                while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                    i += 1
                if at(i) not in _SPACE and at(i) != ">":
                    raise MarkupError(
                        f"Unexpected end of name token at byte offset {_byte_offset(text, token_begin)}"
                    )
                value = text[token_begin:i].lower()
            else:
                quote, i, chars = at(i), i + 1, []
                while i < n and text[i] != quote:
                    if text[i] == "&":
                        decoded, j = _html_entity(text, i)
                        if decoded is not None:
                            chars.append(decoded)
                            i = j
                            continue
                    chars.append(text[i])
                    i += 1
                i += 1 if i < n else 0
                value = "".join(chars)
            if i >= n:
                raise MarkupError(f"Unclosed start tag at byte offset {at_begin}")
            attributes[name] = value
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise MarkupError(f'Tag "span" must have class "tg-spoiler" at byte offset {at_begin}')
        if tag == "tg-emoji" and not _positive_int64(attributes.get("emoji-id", "")):
            raise MarkupError("Invalid custom emoji identifier specified")
        if tag == "tg-time" and not re.fullmatch(r"r|[tTdDwW]*", attributes.get("format", "")):
            raise MarkupError("Invalid date format used")
        stack.append(tag)
        i += 1
    if stack:
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    visible = "".join(out)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in visible):
        raise MarkupError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    return visible


def parse_markdown_v2(text: str) -> str:
    """The visible text of MarkdownV2, or MarkupError with TDLib's message."""
    n, i = len(text), 0
    out: list[str] = []
    stack: list[tuple[str, int]] = []  # (entity type as TDLib names it, index where it began)
    have_quote, can_start_quote = False, True

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    def unclosed(kind: str, begin: int) -> MarkupError:
        return MarkupError(f"Can't find end of {kind} entity at byte offset {_byte_offset(text, begin)}")

    def reserved(ch: str) -> MarkupError:
        return MarkupError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")

    def read_url(k: int) -> tuple[str, int]:  # k is just past "("; returns the URL and the index of ")"
        begin, chars = k, []
        while k < n and text[k] != ")":
            if text[k] == "\\" and 0 < ord(at(k + 1)) <= 126:
                chars.append(text[k + 1])
                k += 2
                continue
            chars.append(text[k])
            k += 1
        if at(k) != ")":
            raise MarkupError(f"Can't find end of a URL at byte offset {_byte_offset(text, begin)}")
        return "".join(chars), k

    while i < n:
        c = text[i]
        if c == "\\" and 0 < ord(at(i + 1)) <= 126:
            out.append(text[i + 1])
            if text[i + 1] != "\r":
                can_start_quote = text[i + 1] == "\n"
            i += 2
            continue
        top = stack[-1][0] if stack else None
        if c not in ("`" if top in ("Code", "Pre", "PreCode") else _MDV2_RESERVED):
            out.append(c)
            if c != "\r":
                can_start_quote = False
            i += 1
            continue
        nxt = at(i + 1)
        if top is None:
            is_end = False
        elif have_quote and c == "\n" and nxt != ">":
            is_end = True
        else:
            is_end = {
                "Bold": c == "*",
                "Italic": c == "_" and nxt != "_",
                "Underline": c == "_" and nxt == "_",
                "Strikethrough": c == "~",
                "Spoiler": c == "|" and nxt == "|",
                "Code": c == "`",
                "Pre": c == "`" and nxt == "`" and at(i + 2) == "`",
                "PreCode": c == "`" and nxt == "`" and at(i + 2) == "`",
                "TextUrl": c == "]",
                "CustomEmoji": c == "]",
                "BlockQuote": False,
            }[top]
        if not is_end:
            begin, kind = i, ""
            if c == "_":
                kind = "Underline" if nxt == "_" else "Italic"
                i += nxt == "_"
            elif c == "*":
                kind = "Bold"
            elif c == "~":
                kind = "Strikethrough"
            elif c == "|":
                if nxt != "|":
                    raise reserved("|")
                kind, i = "Spoiler", i + 1
            elif c == "[":
                kind = "TextUrl"
            elif c == "`" and nxt == "`" and at(i + 2) == "`":
                i += 3
                kind, language_end = "Pre", i
                while at(language_end) not in _SPACE and at(language_end) != "`":
                    language_end += 1
                if i != language_end and language_end < n and text[language_end] != "`":
                    kind, i = "PreCode", language_end
                if at(i) in "\r\n":  # one new line after the opening ``` is not text
                    i += 2 if at(i + 1) in "\r\n" and at(i) != at(i + 1) else 1
                stack.append((kind, begin))
                continue
            elif c == "`":
                kind = "Code"
            elif c == "!":
                if nxt != "[":
                    raise reserved("!")
                kind, i = "CustomEmoji", i + 1
            elif c == "\n":
                out.append(c)
                can_start_quote = True
                i += 1
                continue
            elif c == ">":
                if not can_start_quote:
                    raise reserved(">")
                if not have_quote:
                    kind, have_quote = "BlockQuote", True
                else:  # the ">" that continues a quotation
                    i += 1
                    continue
            else:
                raise reserved(c)
            stack.append((kind, begin))
            i += 1
            continue
        kind, begin = stack[-1]
        if c == "\n" and kind != "BlockQuote":
            # "||" right before the line end marks an expandable quotation; anything else is unclosed.
            if kind != "Spoiler" or not (begin == i - 2 or (begin == i - 3 and text[i - 1] == "\r")):
                raise unclosed(kind, begin)
            stack.pop()
            if not stack or stack[-1][0] != "BlockQuote":
                raise unclosed(*stack[-1]) if stack else unclosed(kind, begin)
            kind = "BlockQuote"
        if kind in ("Underline", "Spoiler"):
            i += 1
        elif kind in ("Pre", "PreCode"):
            i += 2
        elif kind == "TextUrl" and nxt == "(":
            _, i = read_url(i + 2)
        elif kind == "CustomEmoji":
            if nxt != "(":
                raise MarkupError("The entity must contain a tg://emoji or tg://time URL")
            url, i = read_url(i + 2)
            if not _tg_emoji_or_time_url(url):
                raise MarkupError("Invalid tg://emoji or tg://time URL specified")
        elif kind == "BlockQuote":
            have_quote, can_start_quote = False, True
            out.append(c)
        stack.pop()
        i += 1
    if have_quote and stack:
        if stack[-1][0] == "Spoiler" and stack[-1][1] == n - 2:  # "||" at the very end: expandable
            stack.pop()
        if stack and stack[-1][0] == "BlockQuote":
            stack.pop()
    if stack:
        raise unclosed(*stack[-1])
    return "".join(out)


def _positive_int64(value: str) -> bool:
    return bool(re.fullmatch(r"[1-9]\d*", value)) and int(value) < 2**63


def _tg_emoji_or_time_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme.lower() != "tg" or parts.path not in ("", "/"):
        return False
    query = parse_qs(parts.query)
    if parts.netloc.lower() == "emoji":
        return _positive_int64((query.get("id") or [""])[0])
    if parts.netloc.lower() == "time":
        return bool(re.fullmatch(r"\d+", (query.get("unix") or [""])[0]))
    return False


def parse_markdown(text: str) -> str:
    """The visible text of legacy Markdown, or MarkupError with TDLib's message."""
    n, i = len(text), 0
    out: list[str] = []

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    while i < n:
        c = text[i]
        if c == "\\" and at(i + 1) in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            i += 1
            continue
        begin, end_char, is_pre = i, "]" if c == "[" else c, False
        i += 1
        if c == "`" and at(i) == "`" and at(i + 1) == "`":
            i += 2
            is_pre, language_end = True, i
            while at(language_end) not in _SPACE and at(language_end) != "`":
                language_end += 1
            if i != language_end and language_end < n and text[language_end] != "`":
                i = language_end
            if at(i) in "\r\n":
                i += 2 if at(i + 1) in "\r\n" and at(i) != at(i + 1) else 1
        while i < n and (text[i] != end_char or (is_pre and not (at(i + 1) == "`" and at(i + 2) == "`"))):
            out.append(text[i])
            i += 1
        if i >= n:
            raise MarkupError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        if c == "[" and at(i + 1) == "(":
            i += 2
            while i < n and text[i] != ")":
                i += 1
        i += 3 if is_pre else 1
    return "".join(out)


PARSERS: dict[str, Callable[[str], str]] = {
    "html": parse_html,
    "markdownv2": parse_markdown_v2,
    "markdown": parse_markdown,
}


def visible_text(text: str, parse_mode: str | None) -> str:
    """Text as Telegram shows it: ApiError 400 for an unknown parse mode or markup it can't parse."""
    if not parse_mode:
        return text
    parser = PARSERS.get(parse_mode.lower())
    if parser is None:
        raise _bad("unsupported parse_mode")
    try:
        return parser(text)
    except MarkupError as error:
        raise _bad(f"can't parse entities: {error}") from None


def _url_problem(url: str) -> str | None:
    """Why Telegram would refuse a button URL, or None (a rough cut of TDLib's check_url)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "http", url
    if scheme.lower() not in ("http", "https", "tg", "ton", "tonsite"):
        return "Unsupported URL protocol"
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if scheme.lower() in ("http", "https") and (not host or "." not in host or " " in url):
        return "Wrong HTTP URL"
    return None


# --------------------------------------------------------------------------------------------------
# The spec


class Spec:
    """api.json, indexed for checking requests."""

    def __init__(self, path: Path):
        data = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = data["version"]
        self.methods: dict[str, dict[str, Any]] = data["methods"]
        self.types: dict[str, dict[str, Any]] = data["types"]
        self._by_lower = {name.lower(): name for name in self.methods}
        self.update_types = [f["name"] for f in self.types["Update"]["fields"] if f["name"] != "update_id"]
        entity_type = self.fields("MessageEntity")["type"]["description"]
        self.entity_types = frozenset(re.findall(r'"([a-z_]+)"', entity_type))

    def canonical(self, method: str) -> str | None:
        return self._by_lower.get(method.lower())

    @functools.cache  # noqa: B019 - one Spec per file, kept for the whole run
    def fields(self, owner: str) -> dict[str, dict[str, Any]]:
        entry = self.methods.get(owner) or self.types.get(owner) or {}
        return {f["name"]: f for f in entry.get("fields", [])}

    @functools.cache  # noqa: B019
    def limit(self, owner: str, name: str) -> tuple[int, int, str] | None:
        """(low, high, "characters"|"bytes") from a description like "1-64 bytes"."""
        description = self.fields(owner).get(name, {}).get("description", "")
        found = _LIMIT.search(description)
        if not found or "after entit" in description:
            return None
        return int(found[1]), int(found[2]), found[3]

    @functools.cache  # noqa: B019
    def discriminator(self, type_name: str) -> tuple[str, str] | None:
        """("type", "photo") for a type whose field says "must be photo" / always "photo"."""
        for f in self.types.get(type_name, {}).get("fields", []):
            if f["name"] in ("type", "status", "source"):
                found = _DISCRIMINATOR.search(f["description"])
                if found:
                    return f["name"], found[1]
        return None

    def posts_into_chat(self, method: str) -> bool:
        """send*, editMessage*, copyMessage(s), forwardMessage(s): the calls the flood limits count."""
        if method not in self.methods:
            return False
        returns = set(self.methods[method]["returns"])
        return bool(re.match(r"send|editMessage|copyMessage|forwardMessage", method)) and bool(
            returns & {"Message", "Array of Message", "MessageId", "Array of MessageId"}
        )


@functools.cache
def load_spec(path: str) -> Spec:
    return Spec(Path(path))


# --------------------------------------------------------------------------------------------------
# Checking values against the spec


@dataclass
class _Ctx:
    """Where a value is checked: the method, the uploaded parts, the error prefix of the object
    being parsed, and whether it is a request (semantic checks) or an update from the test."""

    method: str
    files: dict[str, Upload]
    request: bool = True
    prefix: str = ""
    used_files: set[str] = field(default_factory=set)
    shown: dict[str, str] = field(default_factory=dict)  # "_text_shown": the text as Telegram shows it

    def inside(self, type_name: str) -> _Ctx:
        if type_name not in PARSE_PREFIX:
            return self
        inner = copy.copy(self)
        inner.prefix = PARSE_PREFIX[type_name]
        return inner

    def error(self, message: str) -> ApiError:
        """'Field "x" ...' inside a parsed button or entity, 'field "x" ...' elsewhere."""
        return _bad(self.prefix + message if self.prefix else message[0].lower() + message[1:])

    def attachment(self, value: str) -> Upload:
        name = value.removeprefix("attach://")
        if name not in self.files:
            raise _bad(f'file "{name}" must be uploaded as a part of the request')  # (fake)
        self.used_files.add(name)
        return self.files[name]


class _Checker:
    """Checks and normalizes values by the spec's type names."""

    def __init__(self, spec: Spec, strict: bool, hooks: dict[str, Callable[[dict[str, Any], _Ctx], None]]):
        self.spec = spec
        self.strict = strict
        self.hooks = hooks

    def check(self, value: Any, types: list[str], name: str, ctx: _Ctx) -> Any:
        if len(types) > 1 and all(t.startswith("Array of ") for t in types):  # e.g. sendMediaGroup.media
            if not isinstance(value, list):
                raise ctx.error(f'Field "{name}" must be of type Array')
            return [self.check(item, [t[9:] for t in types], name, ctx) for item in value]
        discriminators = [self.spec.discriminator(t) for t in types]
        if isinstance(value, dict) and len(types) > 1 and all(discriminators):
            kinds = {disc[1] for disc in discriminators if disc}
            field_name = next(disc[0] for disc in discriminators if disc)
            if value.get(field_name) not in kinds:
                raise ctx.error(
                    f'Field "{name}" has unsupported {field_name} "{value.get(field_name)}"'
                )  # (fake)
        errors: list[ApiError] = []
        for type_name in self._candidates(value, types):
            try:
                return self._check_one(value, type_name, name, ctx)
            except ApiError as error:
                errors.append(error)
        raise errors[0]

    def _candidates(self, value: Any, types: list[str]) -> list[str]:
        """The types to try, most likely first: for an object, those whose discriminator matches
        and whose required fields are all there."""
        if len(types) == 1 or not isinstance(value, dict):
            return types

        def fits(type_name: str) -> tuple[int, int, int]:
            if type_name not in self.spec.types:
                return (3, 0, 0)
            disc = self.spec.discriminator(type_name)
            fields = self.spec.fields(type_name)
            missing = sum(1 for f in fields.values() if f["required"] and f["name"] not in value)
            unknown = sum(1 for key in value if key not in fields)
            return (0 if disc is None or value.get(disc[0]) == disc[1] else 2, missing, unknown)

        return sorted(types, key=fits)

    def _check_one(self, value: Any, type_name: str, name: str, ctx: _Ctx) -> Any:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                raise ctx.error(f'Field "{name}" must be of type Array')
            return [self.check(item, [type_name[9:]], name, ctx) for item in value]
        if type_name == "Integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
                return int(value)
            raise ctx.error(f'Field "{name}" must be of type Integer')
        if type_name == "Float":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ctx.error(f'Field "{name}" must be of type Float') from None
        if type_name == "Boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            raise ctx.error(f'Field "{name}" must be of type Boolean')
        if type_name == "String":
            if (
                isinstance(value, str)
                and value.startswith("attach://")
                and ctx.request
                and name in ATTACHABLE
            ):
                return ctx.attachment(value)
            if isinstance(value, str):
                return value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
            raise ctx.error(f'Field "{name}" must be of type String')
        if type_name == "InputFile":
            if isinstance(value, Upload):
                return value
            if isinstance(value, str) and value.startswith("attach://"):
                return ctx.attachment(value)
            raise ctx.error(f'Field "{name}" must be an uploaded file')  # (fake)
        if type_name == "KeyboardButton" and isinstance(value, str):
            return value  # a reply keyboard button may be given as its text alone
        spec_type = self.spec.types.get(type_name)
        if spec_type is None:
            return value
        if not isinstance(value, dict):
            if name == "reply_markup":
                raise _bad("Object expected as reply markup")
            raise ctx.error(f'Field "{name}" must be of type Object')
        if spec_type.get("subtypes"):
            return self.check(value, spec_type["subtypes"], name, ctx)
        return self._check_object(value, type_name, ctx.inside(type_name))

    def _check_object(self, value: dict[str, Any], type_name: str, ctx: _Ctx) -> dict[str, Any]:
        fields = self.spec.fields(type_name)
        out: dict[str, Any] = {}
        for key, item in value.items():
            spec_field = fields.get(key)
            if spec_field is None:
                if self.strict:
                    raise ctx.error(f'Unknown field "{key}" in {type_name}')  # (fake) Telegram ignores it
                out[key] = item
            elif item is not None:
                out[key] = self.check(item, spec_field["types"], key, ctx)
        for spec_field in fields.values():
            if spec_field["required"] and spec_field["name"] not in out:
                raise ctx.error(f'Can\'t find field "{spec_field["name"]}"')
        disc = self.spec.discriminator(type_name)
        if disc and out.get(disc[0]) != disc[1]:
            raise ctx.error(f'Field "{disc[0]}" must be "{disc[1]}"')  # (fake)
        if ctx.request:
            if type_name in self.hooks:
                self.hooks[type_name](out, ctx)
            for key, item in out.items():
                if isinstance(item, str) and "after entit" in fields.get(key, {}).get("description", ""):
                    shown_text(self.spec, fields, out, key)  # e.g. the caption of an InputMediaPhoto
                elif isinstance(item, str):
                    check_limit(self.spec, type_name, key, item)
        return out


def shown_text(spec: Spec, fields: dict[str, Any], values: dict[str, Any], name: str) -> str:
    """The text of field `name` as Telegram shows it (parsed by its parse mode, outer white space
    trimmed), checked against its "N-M characters after entities parsing" limit in UTF-16 code units."""
    found = _LIMIT.search(fields[name]["description"])
    low, high = (int(found[1]), int(found[2])) if found else (0, MAX_TEXT)
    entities_name = f"{name}_entities" if f"{name}_entities" in fields else "entities"
    mode_name = f"{name}_parse_mode" if f"{name}_parse_mode" in fields else "parse_mode"
    if entities_name in values:
        shown = values[name]
        check_entities(spec, shown, values[entities_name])
    else:
        shown = visible_text(values[name], values.get(mode_name))
    if utf16_len(shown) > high:
        raise _bad(TOO_LONG.get(name, f"{name} is too long"))  # (fake) for the generic case
    if low >= 1 and not shown.strip():
        raise _bad("text must be non-empty")
    return shown.strip()


def check_entities(spec: Spec, text: str, entities: list[dict[str, Any]]) -> None:
    length = utf16_len(text)
    for entity in entities:
        kind, offset, size = entity["type"], entity["offset"], entity["length"]
        if kind not in spec.entity_types:
            raise _bad("can't parse MessageEntity: Unsupported type specified")
        needs = {"text_link": "url", "text_mention": "user", "custom_emoji": "custom_emoji_id"}.get(kind)
        if needs and needs not in entity:
            raise _bad(f"can't parse MessageEntity: Can't find field \"{needs}\"")
        if offset < 0:
            raise _bad(f"receive an entity with incorrect offset {offset}")
        if offset > length:
            raise _bad(f"entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + size > length:
            raise _bad(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text "
                f"at UTF-16 offset {offset + size}"
            )


def check_limit(spec: Spec, owner: str, name: str, value: str) -> None:
    """A length limit stated in the field's description ("1-64 bytes", "0-200 characters")."""
    limit = spec.limit(owner, name)
    if limit is None or (owner, name) in LIMIT_CHECKED_ELSEWHERE:
        return
    low, high, unit = limit
    size = len(value.encode()) if unit == "bytes" else len(value)
    if not low <= size <= high:
        raise _bad(
            LIMIT_WORDING.get((owner, name), f'field "{name}" must be {low}-{high} {unit} long')
        )  # (fake)


class TokenBucket:
    """A token bucket: `rate` tokens a second, holding at most `burst`."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), time.monotonic()

    def has(self, cost: int, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.tokens >= cost - 1e-9

    def take(self, cost: int) -> None:
        self.tokens -= cost


# --------------------------------------------------------------------------------------------------
# The server


class FakeTelegram:
    """A fake Telegram Bot API server (see the module docstring).

    ``start()`` returns the base URL for ``TelegramAPIServer.from_base`` (also kept in ``base_url``).
    What the bot did: ``calls`` (every request, downloads as method "file"), ``calls_to(method)``,
    ``messages_to(chat_id)``, ``webhook`` (what setWebhook set, None when deleted), ``commands``
    (what setMyCommands set last). What the test arranges: ``push_update``, ``add_file``,
    ``fail_next``, ``block`` / ``unblock``.

    ``strict_params`` (default True) is stricter than Telegram to catch our own typos: unknown
    parameters and unknown fields in JSON objects are refused (Telegram ignores them), an inline
    button may carry only one action (Telegram takes the first), setWebhook's allowed_updates must
    name update types, and pushed updates must match the spec's Update type.
    """

    long_poll_cap = 5.0  # seconds: getUpdates never waits longer than this, whatever its timeout

    def __init__(
        self,
        *,
        token: str = TEST_TOKEN,
        spec_path: Path = DEFAULT_SPEC,
        per_chat_rate: float = 1.0,
        per_chat_burst: int = 3,
        per_bot_rate: float = 30.0,
        per_bot_burst: int = 30,
        retry_after: int = 1,
        strict_params: bool = True,
    ):
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.strict_params = strict_params
        self.per_chat_rate, self.per_chat_burst = per_chat_rate, per_chat_burst
        self.retry_after = max(1, int(retry_after))
        self.spec = load_spec(str(spec_path))
        self.base_url = ""
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] | None = None
        self.commands: list[dict[str, str]] = []
        self._checker = _Checker(
            self.spec,
            strict_params,
            {
                "InlineKeyboardButton": self._check_inline_button,
                "KeyboardButton": self._check_keyboard_button,
                "BotCommand": self._check_bot_command,
            },
        )
        self._commands_by_scope: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._allowed_updates: list[str] = []
        self._updates: deque[dict[str, Any]] = deque()
        self._next_update_id = 1
        self._poll_generation = 0
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._last_message_id: dict[int, int] = {}
        self._files: dict[str, dict[str, Any]] = {}  # file_id -> File object plus "_data"
        self._blocked: set[int] = set()
        self._failures: dict[str, deque[ApiError]] = {}
        self._seen_queries: set[str] = set()
        self._answered_queries: set[str] = set()
        self._chat_buckets: dict[Any, TokenBucket] = {}
        self._bot_bucket = TokenBucket(per_bot_rate, per_bot_burst)
        self._runner: web.AppRunner | None = None

    # ---- lifecycle

    async def start(self) -> str:
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        self._stopping = True
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- what tests use

    def calls_to(self, method: str) -> list[Call]:
        name = self.spec.canonical(method) or method
        return [call for call in self.calls if call.method == name]

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Params of the successful calls that posted into or edited a message of that chat, in order."""
        return [
            call.params
            for call in self.calls
            if call.ok and self.spec.posts_into_chat(call.method) and call.params.get("chat_id") == chat_id
        ]

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates; assigns update_id if missing. With strict_params the
        update must match the spec's Update type (ValueError otherwise)."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        if self.strict_params:
            try:
                self._checker.check(update, ["Update"], "update", _Ctx("update", {}, request=False))
            except ApiError as error:
                problem = error.description.removeprefix("Bad Request: ")
                raise ValueError(f"update does not match the Bot API spec: {problem}") from None
        self._learn(update)
        self._updates.append(update)
        self._wake()

    def add_file(self, content: bytes, file_path: str = "documents/file.pdf") -> str:
        """A file on "Telegram's servers": getFile and GET /file/bot<token>/<file_path> serve it."""
        return self._store_file(content, file_path)["file_id"]

    def fail_next(
        self, method: str, *, status: int, description: str, times: int = 1, retry_after: int | None = None
    ) -> None:
        """The next `times` calls of `method` fail with this status and description, before any check.
        A 429 always carries parameters.retry_after (the `retry_after` setting unless given)."""
        if status == 429 and retry_after is None:
            retry_after = self.retry_after
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        name = self.spec.canonical(method) or method
        queue = self._failures.setdefault(name, deque())
        queue.extend(ApiError(status, description, parameters) for _ in range(times))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: calls into that chat get 403."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    # ---- HTTP

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _api(self, request: web.Request) -> web.Response:
        call = Call(request.match_info["method"], {}, 0, None, time.monotonic(), request.method)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            method = self.spec.canonical(call.method)
            if method is None:
                raise ApiError(404, "Not Found")
            call.method = method
            raw, call.files = await self._read(request)
            call.params = {key: _loose_json(value) for key, value in raw.items()}
            failures = self._failures.get(method)
            if failures:
                raise failures.popleft()
            ctx = _Ctx(method, call.files)
            call.params = self._check_params(method, raw, ctx)
            result, description = await self._execute(method, {**call.params, **ctx.shown})
            body: dict[str, Any] = {"ok": True, "result": result}
            if description:
                body["description"] = description
            call.status = 200
        except ApiError as error:
            body, call.status = error.body(), error.status
        call.response = body
        self.calls.append(call)
        return web.json_response(body, status=call.status)

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
        """Query string, then the body: url-encoded or multipart form, or a JSON object."""
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, Upload] = {}
        if not request.body_exists:
            return raw, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON encoded request") from None  # (fake)
            if not isinstance(body, dict):
                raise _bad("JSON object expected as request body")  # (fake)
            raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge:
                raise ApiError(413, "Request Entity Too Large") from None
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    raw[key] = value
        return raw, files

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if failures := self._failures.get("download"):  # fail_next("download", ...)
            failure = failures.popleft()
            self.calls.append(
                Call("file", {"file_path": path}, failure.status, None, time.monotonic(), "GET")
            )
            return web.json_response(failure.body(), status=failure.status)
        found = next((f for f in self._files.values() if f["file_path"] == path), None)
        ok = request.match_info["token"] == self.token and found is not None
        status = 200 if ok else 404
        self.calls.append(Call("file", {"file_path": path}, status, None, time.monotonic(), "GET"))
        if not ok:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        return web.Response(body=found["_data"], content_type="application/octet-stream")

    # ---- checking a request

    def _check_params(self, method: str, raw: dict[str, Any], ctx: _Ctx) -> dict[str, Any]:
        fields = self.spec.fields(method)
        for name in ctx.files:  # a file sent directly as the parameter, not as attach://
            if name in fields and name not in raw:
                raw[name] = ctx.files[name]
        params: dict[str, Any] = {}
        for name, value in raw.items():
            spec_field = fields.get(name)
            if spec_field is None:
                if self.strict_params:
                    raise _bad(f'unknown parameter "{name}"')  # (fake) Telegram ignores it
                params[name] = _loose_json(value)
            elif value is not None and value != "":  # an empty value is no value, as in the Bot API
                params[name] = self._param(method, spec_field, value, ctx)
        for spec_field in fields.values():
            if spec_field["required"] and spec_field["name"] not in params:
                raise self._missing(method, spec_field["name"])
        if "inline_message_id" in fields and "inline_message_id" not in params:
            for name in ("chat_id", "message_id"):  # "Required if inline_message_id is not specified"
                if name not in params:
                    raise self._missing(method, name)
        if method == "editMessageText" and "text" not in params and "rich_message" not in params:
            raise self._missing(method, "text")
        unused = set(ctx.files) - ctx.used_files - set(params)
        if unused and self.strict_params:
            raise _bad(f'unknown parameter "{sorted(unused)[0]}"')  # (fake)
        self._check_texts(method, fields, params, ctx)
        if isinstance(params.get("reply_markup"), dict):
            self._check_markup(params["reply_markup"])
        return params

    def _param(self, method: str, spec_field: dict[str, Any], value: Any, ctx: _Ctx) -> Any:
        types, name = spec_field["types"], spec_field["name"]
        if isinstance(value, str):
            if value.startswith("attach://") and "InputFile" in types:
                return ctx.attachment(value)
            structured = [t for t in types if t.startswith("Array of ") or t in self.spec.types]
            if structured and not {"String", "Integer"} & set(types):
                try:
                    value = json.loads(value)
                except ValueError:
                    raise _bad(f"can't parse {JSON_WHAT.get(name, name)} JSON object") from None
        checked = self._checker.check(value, types, name, ctx)
        if isinstance(checked, str):
            check_limit(self.spec, method, name, checked)
        return checked

    def _missing(self, method: str, name: str) -> ApiError:
        if method in MEDIA_PARAMS and name == MEDIA_PARAMS[method]:
            return _bad(f"there is no {name.replace('_', ' ')} in the request")
        return _bad(MISSING.get(name, f'parameter "{name}" is required'))  # (fake) for the generic case

    def _check_texts(self, method: str, fields: dict[str, Any], params: dict[str, Any], ctx: _Ctx) -> None:
        for name in fields:
            if "after entit" in fields[name]["description"] and isinstance(params.get(name), str):
                ctx.shown[f"_{name}_shown"] = shown_text(self.spec, fields, params, name)

    def _check_markup(self, markup: dict[str, Any]) -> None:
        rows = markup.get("inline_keyboard")
        too_many = isinstance(rows, list) and (
            any(len(row) > MAX_BUTTONS_PER_ROW for row in rows) or sum(map(len, rows)) > MAX_BUTTONS
        )
        if too_many:
            raise _bad("BUTTONS_TOO_MUCH")  # wording unverified: the limits are undocumented

    def _check_inline_button(self, button: dict[str, Any], ctx: _Ctx) -> None:
        actions = [
            key
            for key in INLINE_ACTIONS
            if key in button and not (key in ("url", "callback_data") and not button[key])
        ]
        if not actions:
            raise ctx.error("Text buttons are unallowed in the inline keyboard")
        if len(actions) > 1 and self.strict_params:
            raise ctx.error(
                f"Exactly one of the optional fields must be used, got {', '.join(actions)}"
            )  # (fake)
        if "callback_data" in actions and len(button["callback_data"].encode()) > MAX_CALLBACK_DATA_BYTES:
            raise _bad("BUTTON_DATA_INVALID")
        if "url" in actions and (problem := _url_problem(button["url"])):
            raise _bad(f"inline keyboard button URL '{button['url']}' is invalid: {problem}")
        web_app = button.get("web_app", {}).get("url", "")
        if "web_app" in actions and not web_app.startswith("https://"):
            raise _bad(
                f"inline keyboard button Web App URL '{web_app}' is invalid: Only HTTPS links are allowed"
            )
        if ("pay" in actions and ctx.method != "sendInvoice") or (
            "callback_game" in actions and ctx.method != "sendGame"
        ):
            raise _bad("BUTTON_TYPE_INVALID")
        if "copy_text" in actions and not 1 <= len(button["copy_text"]["text"]) <= 256:
            raise _bad("BUTTON_COPY_TEXT_INVALID")

    def _check_keyboard_button(self, button: dict[str, Any], ctx: _Ctx) -> None:
        web_app = button.get("web_app", {}).get("url")
        if web_app is not None and not web_app.startswith("https://"):
            raise _bad(f"keyboard button Web App URL '{web_app}' is invalid: Only HTTPS links are allowed")

    def _check_bot_command(self, command: dict[str, Any], ctx: _Ctx) -> None:
        """TDLib trims both and drops a leading "/"; the server allows only [a-z0-9_]."""
        name = command["command"].strip().removeprefix("/")
        description = command["description"].strip()
        if not name:
            raise _bad("command must be non-empty")
        if len(name) > 32:
            raise _bad("command length must not exceed 32")
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise _bad("BOT_COMMAND_INVALID")
        if not description:
            raise _bad("command description must be non-empty")
        if len(description) > 256:
            raise _bad("command description length must not exceed 256")
        command["command"], command["description"] = name, description

    # ---- executing a request

    async def _execute(self, method: str, params: dict[str, Any]) -> tuple[Any, str | None]:
        chat_id = self._target_chat(method, params)
        if self.spec.posts_into_chat(method):
            self._take_tokens(chat_id, len(params.get("media", [])) if method == "sendMediaGroup" else 1)
        handler = getattr(self, f"_do_{method}", None)
        if handler is not None:
            return await handler(params) if method == "getUpdates" else handler(params)
        returns = self.spec.methods[method]["returns"]
        if method.startswith("send") and "Message" in returns:
            return self._send(method, params), None
        if returns == ["Boolean"]:
            return True, None
        raise ApiError(501, f"Not Implemented: the fake Telegram server has no {method}")  # (fake)

    def _target_chat(self, method: str, params: dict[str, Any]) -> int | None:
        for name in ("from_chat_id", "chat_id"):
            if name not in params:
                continue
            chat_id = params[name]
            if not isinstance(chat_id, int) or chat_id == 0:
                raise _bad("chat not found")
            if chat_id in self._blocked and name == "chat_id":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
        chat_id = params.get("chat_id")
        return chat_id if isinstance(chat_id, int) else None

    def _take_tokens(self, chat_id: int | None, cost: int) -> None:
        now = time.monotonic()
        buckets = [self._bot_bucket]
        if chat_id is not None:
            buckets.append(
                self._chat_buckets.setdefault(chat_id, TokenBucket(self.per_chat_rate, self.per_chat_burst))
            )
        if not all(bucket.has(cost, now) for bucket in buckets):
            raise ApiError(
                429, f"Too Many Requests: retry after {self.retry_after}", {"retry_after": self.retry_after}
            )
        for bucket in buckets:
            bucket.take(cost)

    # messages

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Patient"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "Group"}

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "telecare", "username": "telecare_test_bot"}

    def _new_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        message = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **{key: value for key, value in content.items() if value is not None},
        }
        self._messages[(chat_id, message_id)] = message
        return copy.deepcopy(message)

    def _send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        content: dict[str, Any] = {}
        if "_text_shown" in params:
            content["text"] = params["_text_shown"]
            content["entities"] = params.get("entities")
        if "_caption_shown" in params:
            content["caption"] = params["_caption_shown"]
            content["caption_entities"] = params.get("caption_entities")
        if method in MEDIA_PARAMS:
            kind = MEDIA_PARAMS[method]
            content[kind] = self._media(kind, params[kind])
        elif method == "sendLocation":
            content["location"] = {"latitude": params["latitude"], "longitude": params["longitude"]}
        elif method == "sendContact":
            content["contact"] = {
                key: params[key]
                for key in ("phone_number", "first_name", "last_name", "vcard")
                if key in params
            }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        return self._new_message(params["chat_id"], **content)

    def _do_sendMediaGroup(self, params: dict[str, Any]) -> tuple[Any, None]:
        messages = []
        for item in params["media"]:
            kind = item["type"]
            content = {kind: self._media(kind, item["media"]), "caption": item.get("caption")}
            messages.append(self._new_message(params["chat_id"], **content))
        return messages, None

    def _do_copyMessage(self, params: dict[str, Any]) -> tuple[Any, None]:
        source = self._messages.get((params["from_chat_id"], params["message_id"]), {})
        content = {
            key: value for key, value in source.items() if key not in ("message_id", "from", "chat", "date")
        }
        return {"message_id": self._new_message(params["chat_id"], **content)["message_id"]}, None

    def _do_forwardMessage(self, params: dict[str, Any]) -> tuple[Any, None]:
        source = self._messages.get((params["from_chat_id"], params["message_id"]), {})
        content = {
            key: value for key, value in source.items() if key not in ("message_id", "from", "chat", "date")
        }
        return self._new_message(params["chat_id"], **content), None

    def _media(self, kind: str, value: Upload | str) -> Any:
        if isinstance(value, Upload):
            stored = self._store_file(
                value.data, f"{kind}s/file_{len(self._files)}", value.filename, value.content_type
            )
        elif value in self._files:
            stored = self._files[value]
        elif value.startswith(("http://", "https://")):
            name = urlsplit(value).path.rsplit("/", 1)[-1] or "file"
            stored = self._store_file(
                b"", f"{kind}s/file_{len(self._files)}", name, "application/octet-stream"
            )
        else:
            raise _bad("wrong file identifier/HTTP URL specified")
        ids = {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "file_size": stored["file_size"],
        }
        named = {"file_name": stored["_name"], "mime_type": stored["_mime"]}
        if kind == "photo":
            return [{**ids, "width": 800, "height": 600}]
        if kind == "sticker":
            return {
                **ids,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        if kind == "video_note":
            return {**ids, "length": 240, "duration": 1}
        if kind in ("video", "animation"):
            return {**ids, **named, "width": 640, "height": 480, "duration": 1}
        if kind in ("audio", "voice"):
            return {**ids, "mime_type": stored["_mime"], "duration": 1}
        return {**ids, **named}

    def _store_file(
        self, content: bytes, file_path: str, name: str | None = None, mime: str = "application/octet-stream"
    ) -> dict[str, Any]:
        file_id = "F" + secrets.token_urlsafe(24)
        stored = {
            "file_id": file_id,
            "file_unique_id": "U" + secrets.token_urlsafe(8),
            "file_size": len(content),
            "file_path": file_path,
            "_data": content,
            "_name": name or file_path.rsplit("/", 1)[-1],
            "_mime": mime,
        }
        self._files[file_id] = stored
        return stored

    def _editable(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._messages.get((params["chat_id"], params["message_id"]))
        if message is None:
            raise _bad("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return message

    def _edited(self, message: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        if all(message.get(key) == value for key, value in changes.items()):
            raise _bad(NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    @staticmethod
    def _inline_markup(params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        return markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None

    def _do_editMessageText(self, params: dict[str, Any]) -> tuple[Any, None]:
        if "inline_message_id" in params:
            return True, None
        message = self._editable(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        changes = {
            "text": params.get("_text_shown"),
            "entities": params.get("entities"),
            "reply_markup": self._inline_markup(params),  # no reply_markup removes the keyboard
        }
        return self._edited(message, changes), None

    def _do_editMessageCaption(self, params: dict[str, Any]) -> tuple[Any, None]:
        if "inline_message_id" in params:
            return True, None
        changes = {
            "caption": params.get("_caption_shown"),
            "caption_entities": params.get("caption_entities"),
            "reply_markup": self._inline_markup(params),
        }
        return self._edited(self._editable(params), changes), None

    def _do_editMessageReplyMarkup(self, params: dict[str, Any]) -> tuple[Any, None]:
        if "inline_message_id" in params:
            return True, None
        return self._edited(self._editable(params), {"reply_markup": self._inline_markup(params)}), None

    def _do_deleteMessage(self, params: dict[str, Any]) -> tuple[Any, None]:
        if self._messages.pop((params["chat_id"], params["message_id"]), None) is None:
            raise _bad("message to delete not found")
        return True, None

    # updates

    def _learn(self, update: dict[str, Any]) -> None:
        """Chats, messages and callback queries in a pushed update become known to the fake."""
        query = update.get("callback_query") or {}
        if "id" in query:
            self._seen_queries.add(query["id"])
        for message in (update.get(key) for key in ("message", "edited_message", "channel_post")):
            self._learn_message(message)
        self._learn_message(query.get("message"))

    def _learn_message(self, message: dict[str, Any] | None) -> None:
        if not message or "chat" not in message or "message_id" not in message:
            return
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        self._chats[chat_id] = message["chat"]
        self._messages[(chat_id, message_id)] = copy.deepcopy(message)
        self._last_message_id[chat_id] = max(self._last_message_id.get(chat_id, 0), message_id)

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _deliverable(self) -> list[dict[str, Any]]:
        allowed = set(self._allowed_updates) or set(self.spec.update_types) - NOT_BY_DEFAULT
        return [u for u in self._updates if next((k for k in u if k != "update_id"), None) in allowed]

    async def _do_getUpdates(self, params: dict[str, Any]) -> tuple[Any, None]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"]
        offset = params.get("offset", 0)
        if offset < 0:  # "the last -offset updates"; the ones before are forgotten
            while len(self._updates) > -offset:
                self._updates.popleft()
        else:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        limit = min(max(params.get("limit", 100), 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older long poll ends with 409
        deadline = time.monotonic() + min(max(params.get("timeout", 0), 0), self.long_poll_cap)
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            ready = self._deliverable()
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or self._stopping:
                return copy.deepcopy(ready[:limit]), None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    def _do_setWebhook(self, params: dict[str, Any]) -> tuple[Any, str]:
        url = params.get("url", "")
        if not url:
            return self._do_deleteWebhook(params)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in WEBHOOK_PORTS:
            raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token", "")
        if not re.fullmatch(r"[A-Za-z0-9_-]*", secret):
            raise _bad("secret token contains unallowed characters")
        unknown = set(params.get("allowed_updates", [])) - set(self.spec.update_types)
        if unknown and self.strict_params:
            raise _bad(f"unknown update type {sorted(unknown)[0]} in allowed_updates")  # (fake)
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"]
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {key: value for key, value in params.items() if key != "certificate"}
        self.webhook["has_custom_certificate"] = "certificate" in params
        self.webhook["max_connections"] = min(max(params.get("max_connections", 40), 1), 100)
        return True, "Webhook was set"

    def _do_deleteWebhook(self, params: dict[str, Any]) -> tuple[Any, str]:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        was_set, self.webhook = self.webhook is not None, None
        return True, "Webhook was deleted" if was_set else "Webhook is already deleted"

    def _do_getWebhookInfo(self, params: dict[str, Any]) -> tuple[Any, None]:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            info.update(
                url=self.webhook["url"], has_custom_certificate=self.webhook["has_custom_certificate"]
            )
            info["max_connections"] = self.webhook["max_connections"]
            for key in ("ip_address", "allowed_updates"):
                if key in self.webhook:
                    info[key] = self.webhook[key]
        return info, None

    # the rest

    def _do_getMe(self, params: dict[str, Any]) -> tuple[Any, None]:
        me = {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        return me, None

    def _do_answerCallbackQuery(self, params: dict[str, Any]) -> tuple[Any, None]:
        query_id = params["callback_query_id"]
        if query_id in self._answered_queries:
            raise _bad(QUERY_INVALID)
        self._answered_queries.add(query_id)
        return True, None

    def _scope_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code", "")

    def _do_setMyCommands(self, params: dict[str, Any]) -> tuple[Any, None]:
        if len(params["commands"]) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        self.commands = params["commands"]
        self._commands_by_scope[self._scope_key(params)] = params["commands"]
        return True, None

    def _do_getMyCommands(self, params: dict[str, Any]) -> tuple[Any, None]:
        return copy.deepcopy(self._commands_by_scope.get(self._scope_key(params), [])), None

    def _do_deleteMyCommands(self, params: dict[str, Any]) -> tuple[Any, None]:
        self._commands_by_scope.pop(self._scope_key(params), None)
        return True, None

    def _do_getFile(self, params: dict[str, Any]) -> tuple[Any, None]:
        stored = self._files.get(params["file_id"])
        if stored is None:
            raise _bad("invalid file_id")
        if stored["file_size"] > MAX_DOWNLOAD:
            raise _bad("file is too big")
        return {key: value for key, value in stored.items() if not key.startswith("_")}, None

    def _do_sendChatAction(self, params: dict[str, Any]) -> tuple[Any, None]:
        return True, None


def _loose_json(value: Any) -> Any:
    """A form value as the test wants to see it: JSON objects and arrays parsed."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
