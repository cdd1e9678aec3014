"""Composition root: ``create_app(settings, knowledge)`` builds the aiohttp application; ``main()``
reads the environment, validates it and serves. Nothing is built at import time, so tests can run
two apps side by side."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import sys
from datetime import datetime
from typing import Callable

from aiohttp import web
from botbuilder.core import ConversationState

from bot.adapter import build_adapter, silence_sdk_loggers
from bot.http import ADAPTER, BOT, KNOWLEDGE, SETTINGS, STORAGE, add_routes
from bot.logs import bot_logger, configure_logging, safe_error_fields
from bot.safeguarding_bot import SafeguardingBot
from bot.serving import quiet_aiohttp_loggers, serve
from bot.settings import Settings, SettingsError
from bot.storage import ExpiringStorage, OneTurnAtATime, build_storage
from knowledge.loader import Knowledge, load_knowledge


def create_app(
    settings: Settings,
    knowledge: Knowledge,
    *,
    storage: ExpiringStorage | None = None,
    clock: Callable[[], datetime] | None = None,
) -> web.Application:
    storage = storage or build_storage(settings)
    conversation_state = ConversationState(storage)
    bot = SafeguardingBot(settings, knowledge, conversation_state, clock=clock)
    adapter = build_adapter(
        settings,
        lambda: knowledge.messages.text("turn_error"),
        outage_replies=bot.outage_replies,
    )
    adapter.use(OneTurnAtATime(conversation_state))

    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[KNOWLEDGE] = knowledge
    app[STORAGE] = storage
    app[BOT] = bot
    app[ADAPTER] = adapter
    add_routes(app)
    app.cleanup_ctx.append(_purge_expired_state)
    app.on_cleanup.append(lambda _app: storage.close())
    return app


async def _purge_expired_state(app: web.Application):
    """Sweep expired conversation state that nobody reads again (memory and Blob stores)."""
    storage = app[STORAGE]

    async def sweep() -> None:
        while True:
            await asyncio.sleep(60)
            try:
                await storage.sweep_expired()
            except Exception as error:  # noqa: BLE001 - one failed pass must not end sweeping
                bot_logger().warning("sweep_failed", extra={"outcome": "sweep_failed", **safe_error_fields(error)})

    task = asyncio.create_task(sweep())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def knowledge_for(settings: Settings) -> Knowledge:
    """What the bot knows, as the settings configure it (local contacts, the model cache)."""
    return load_knowledge(
        local_contacts_path=settings.local_contacts_path, model_cache_dir=settings.model_cache_dir
    )


def main(argv: list[str] | None = None) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    silence_sdk_loggers()
    quiet_aiohttp_loggers()
    if port_taken(settings.host, settings.port):
        print(_port_taken_message(settings), file=sys.stderr)
        return 1
    try:
        knowledge = knowledge_for(settings)
    except Exception as error:  # noqa: BLE001 - start-up must say what is wrong and stop
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2
    app = create_app(settings, knowledge)
    mode = "anonymous local mode" if settings.anonymous else f"{settings.effective_app_type} credentials"
    endpoint = f"http://{settings.host}:{settings.port}/api/messages"
    if settings.anonymous:
        hint = f"`make chat URL={endpoint}` in another terminal (plain `make chat` starts its own bot)"
    else:
        hint = "from Teams, through the Azure Bot's messaging endpoint (deployment/RUNBOOK.md)"
    print(
        f"Safeguarding bot listening on {endpoint} ({mode}, {settings.storage} state).\nTalk to it: {hint}.",
        flush=True,
    )
    bot_logger().info("started", extra={"outcome": "started", "storage": settings.storage, "mode": mode})
    # aiohttp's run_app, on the hardened server (bot/serving.py: safe protocol errors, header timeout).
    try:
        asyncio.run(serve(app, settings.host, settings.port))
    except OSError as error:  # taken between the check above and the bind: still one line
        print(f"{_port_taken_message(settings)} ({error.strerror or error})", file=sys.stderr)
        return 1
    return 0


def port_taken(host: str, port: int) -> bool:
    """True when another process listens on host:port (checked the way aiohttp binds: reuse allowed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return False  # a bad host is the bind's to report
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return True
    return False


def _port_taken_message(settings: Settings) -> str:
    return (
        f"Cannot start: port {settings.port} on {settings.host} is already in use (another `make run`?). "
        "Stop that process, or set BOT_PORT to a free port."
    )


if __name__ == "__main__":
    sys.exit(main())
