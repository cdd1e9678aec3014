"""The HTTP server itself: aiohttp's protocol layer, made safe for what a stranger can send.

aiohttp answers a request it cannot parse (bad framing, a Content-Length shorter than the body, a
content coding it cannot decode) before any handler runs, and stock it:

- logs the error at ERROR with a traceback whose exception message quotes the request bytes, and
  message text with them (found by the red team: issue 16, item 1);
- answers with a text/plain 400 that echoes the same bytes back;
- names itself and Python's version in every ``Server`` header;
- has no read timeout for headers and no cap on connections, so a client trickling bytes holds a
  socket for as long as it likes (item 8).

``HardenedRequestHandler`` answers such requests with a fixed JSON body, logs the error's type only
(no message, no traceback, no bytes), and treats a client that went away as the client's business
(DEBUG, not ERROR). ``HardenedServer`` caps the open connections (closing the oldest idle one
first) and gives every connection ``header_timeout_seconds`` from connecting, or from its last
response, to finish a request's headers. ``HardenedAppRunner`` is aiohttp's ``AppRunner`` with that
server; ``serve()`` runs an app on it, as ``app.main()`` does.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from bot.logs import bot_logger

SERVER_NAME = "safeguarding-bot"

# What a protocol-level error tells the caller: fixed text, never what the caller sent.
PROTOCOL_ERRORS = {
    400: "malformed HTTP request",
    408: "request took too long to arrive",
    413: "request too large",
    431: "request headers too large",
    500: "internal error",
    501: "not implemented",
    504: "the bot took too long to answer",
}


@dataclass(frozen=True)
class ServerLimits:
    # From connecting (or from the last response on a kept-alive connection) to a complete set of
    # request headers. Also the idle time after which a kept-alive connection is closed.
    header_timeout_seconds: float = 10.0
    # Open connections at most; past it the oldest idle connection is closed to make room.
    max_connections: int = 512


class HardenedRequestHandler(RequestHandler):
    """aiohttp's per-connection protocol with safe errors (see the module docstring)."""

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        log_protocol_error(status, exc)
        if request.writer.output_size > 0:
            # Part of a response is out already: nothing can be said any more, only the connection
            # closed (aiohttp's own contract for this case).
            raise ConnectionError("response already started")
        response = web.json_response({"error": PROTOCOL_ERRORS.get(status, "request refused")}, status=status)
        response.headers["Server"] = SERVER_NAME
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's "Unhandled exception" and friends: the type only, never the message."""
        exc = kw.get("exc_info")
        log_protocol_error(500, exc if isinstance(exc, BaseException) else None)


def log_protocol_error(status: int, exc: BaseException | None) -> None:
    fields = {"outcome": "http_protocol_error", "status": status, "error_type": type(exc).__name__ if exc else "-"}
    if isinstance(exc, ConnectionError):
        bot_logger().debug("client_disconnected", extra={**fields, "outcome": "client_disconnected"})
    elif status >= 500:
        bot_logger().error("http_protocol_error", extra=fields)
    else:
        bot_logger().info("http_protocol_error", extra=fields)


class HardenedServer(web.Server):
    """aiohttp's low-level server making ``HardenedRequestHandler`` connections, at most
    ``limits.max_connections`` of them."""

    def __init__(self, *args: Any, limits: ServerLimits | None = None, **kwargs: Any) -> None:
        self.limits = limits or ServerLimits()
        kwargs["keepalive_timeout"] = self.limits.header_timeout_seconds
        kwargs["access_log"] = None  # the bot logs each activity itself, with ids hashed
        # Bodies arrive as sent: a compressed body is refused with a 415 by the handler, instead
        # of a decoder failing (500) or missing (a plain-text 400 naming a package to install).
        kwargs["auto_decompress"] = False
        super().__init__(*args, **kwargs)
        self.closed_for_room = 0

    def __call__(self) -> RequestHandler:
        return HardenedRequestHandler(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        excess = len(self._connections) - self.limits.max_connections
        if excess <= 0:
            return
        idle = [other for other in self._connections if other is not handler and not other._request_in_progress]
        for victim in (idle or [handler])[:excess]:
            self.closed_for_room += 1
            victim.force_close()


class HardenedAppRunner(web.AppRunner):
    """``web.AppRunner`` serving through ``HardenedServer``."""

    def __init__(self, app: web.Application, *, limits: ServerLimits | None = None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.limits = limits or ServerLimits()

    async def _make_server(self) -> web.Server:
        stock = await super()._make_server()  # runs the app's start-up, freezes it
        kwargs = dict(stock._kwargs)
        kwargs.pop("access_log", None)
        kwargs.pop("keepalive_timeout", None)
        kwargs.pop("auto_decompress", None)
        return HardenedServer(
            stock.request_handler,
            request_factory=stock.request_factory,
            handler_cancellation=stock.handler_cancellation,
            loop=stock._loop,
            limits=self.limits,
            **kwargs,
        )


async def _server_header(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_NAME


def hide_server_version(app: web.Application) -> None:
    """Every response names the bot, not aiohttp's and Python's versions."""
    app.on_response_prepare.append(_server_header)


async def serve(app: web.Application, host: str, port: int, *, limits: ServerLimits | None = None) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, then shut down cleanly (aiohttp's run_app, on the
    hardened server). Raises OSError when the port cannot be bound."""
    runner = HardenedAppRunner(app, limits=limits, handle_signals=False, shutdown_timeout=10)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for name in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(name, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def quiet_aiohttp_loggers() -> None:
    """Belt and braces: should anything still log through aiohttp's server logger, it is kept
    to warnings and without the exception text (the bot's own handler logs what matters)."""
    logging.getLogger("aiohttp.server").addFilter(_strip_exception_text)
    logging.getLogger("aiohttp.web").addFilter(_strip_exception_text)


def _strip_exception_text(record: logging.LogRecord) -> bool:
    if record.exc_info:
        exc = record.exc_info[1]
        record.error_type = type(exc).__name__ if exc else "-"
        record.exc_info = None
        record.exc_text = None
    record.msg = "aiohttp_server_error"
    record.args = ()
    return True


__all__ = [
    "HardenedAppRunner",
    "HardenedRequestHandler",
    "HardenedServer",
    "ServerLimits",
    "hide_server_version",
    "quiet_aiohttp_loggers",
    "serve",
]
