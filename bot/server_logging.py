"""uvicorn's own log, made to keep the promise that junk from a client never writes a traceback.

A web chat text frame that is not valid UTF-8 is refused by uvicorn itself (close 1007, before our
socket handler sees it), but its websockets implementation logs that with `logger.exception`: a
traceback per frame that any anonymous client can send. The refusal is right; the traceback says
nothing an operator can act on. So that one record keeps its line, as a warning, without it."""

from __future__ import annotations

import logging

INVALID_UTF8 = "Invalid UTF-8 sequence received from client."


class ClientErrorsWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() == INVALID_UTF8:
            record.exc_info, record.exc_text, record.stack_info = None, None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install() -> None:
    """On uvicorn's logger itself, so uvicorn's own logging setup (which replaces handlers, not
    filters) keeps it. Idempotent."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, ClientErrorsWithoutTraceback) for f in logger.filters):
        logger.addFilter(ClientErrorsWithoutTraceback())
