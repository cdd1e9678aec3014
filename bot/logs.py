"""Structured logs that never carry what a person typed.

Every record is JSON with a hashed conversation id, the activity type, an outcome code and the
latency. Message text, card values, names and attachments never reach a log: callers pass only the
fields below, and exceptions are logged by type and location, not by message (an exception message
can quote user input).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sys
import traceback
from types import TracebackType

from pythonjsonlogger.json import JsonFormatter

LOGGER_NAME = "safeguarding_bot"


def configure_logging(level: str = "INFO", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"asctime": "time"})
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's access log prints the request line only (no bodies), which is safe; keep it quieter.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def bot_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def hash_id(value: str | None, salt: str = "") -> str:
    """A stable pseudonym for an id, so logs can be joined without holding the id itself."""
    if not value:
        return "-"
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]


def safe_error_fields(error: BaseException) -> dict:
    """Type and innermost location of an error, never its message (it may quote user input)."""
    tb: TracebackType | None = error.__traceback__
    frames = traceback.extract_tb(tb) if tb else []
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "-"
    return {"error_type": type(error).__name__, "error_at": where}
