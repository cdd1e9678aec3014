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


# Activity types the Bot Framework defines: logged as they are; anything else as "other". The type
# is caller-chosen text and is logged before authentication: verbatim, one unauthenticated request
# wrote a 66 KB log line of its own choosing (issue 16, item 2).
KNOWN_ACTIVITY_TYPES = frozenset(
    {
        "message", "contactRelationUpdate", "conversationUpdate", "typing", "endOfConversation", "event",
        "invoke", "invokeResponse", "deleteUserData", "messageUpdate", "messageDelete", "installationUpdate",
        "messageReaction", "suggestion", "trace", "handoff", "command", "commandResult", "delay",
    }
)


def known(value: object, allowed: frozenset[str] | set[str], other: str = "other") -> str:
    """``value`` if it is one of ``allowed`` (exactly), else ``other``: how a caller-chosen string
    reaches a log."""
    return value if isinstance(value, str) and value in allowed else other


def activity_type_field(value: object) -> str:
    return known(value, KNOWN_ACTIVITY_TYPES)


def hash_id(value: str | None, salt: str = "") -> str:
    """A stable pseudonym for an id, so logs can be joined without holding the id itself."""
    if not value:
        return "-"
    # surrogatepass: an id is caller-chosen and JSON can carry a lone surrogate ("\ud800"), which
    # plain UTF-8 cannot encode; hashing it must not fail (it was a 500 before authentication).
    return hmac.new(salt.encode("utf-8", "surrogatepass"), value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]


def safe_error_fields(error: BaseException) -> dict:
    """Type and innermost location of an error, never its message (it may quote user input)."""
    tb: TracebackType | None = error.__traceback__
    frames = traceback.extract_tb(tb) if tb else []
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "-"
    return {"error_type": type(error).__name__, "error_at": where}
