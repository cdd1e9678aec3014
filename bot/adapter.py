"""The CloudAdapter, its turn-error handler, and the fixes to the SDK it needs.

The Bot Framework SDK for Python is archived upstream; anything we change about its behaviour is
done here, in the open, with the reason beside it.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Awaitable, Callable

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import ActivityTypes

from bot.logs import bot_logger, hash_id, safe_error_fields
from bot.settings import Settings

SafeMessage = Callable[[], str]


def apply_sdk_performance_fixes() -> None:
    """Make msrest's retry-policy construction cheap.

    Every turn builds connector clients whose ``ClientRetryPolicy.__init__`` runs
    ``[i for i in range(999) if i not in self.safe_codes]`` against a 501-item *list*: about
    3 ms of CPU per client, two thirds of a whole turn (measured on botbuilder 4.17.1 / msrest
    0.7.1). A frozenset with the same codes gives the same retry list in microseconds.
    Idempotent; applied when the adapter is built, never at import time.
    """
    from msrest.universal_http.requests import ClientRetryPolicy

    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)


def sdk_configuration(settings: Settings) -> SimpleNamespace:
    """The attribute names the SDK's ConfigurationBotFrameworkAuthentication reads."""
    return SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.effective_app_type if settings.app_id else "MultiTenant",
        APP_TENANTID=settings.app_tenant_id,
    )


def build_adapter(settings: Settings, safe_error_message: SafeMessage) -> CloudAdapter:
    apply_sdk_performance_fixes()
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(sdk_configuration(settings)))
    adapter.on_turn_error = make_turn_error_handler(settings, safe_error_message)
    return adapter


def make_turn_error_handler(
    settings: Settings, safe_error_message: SafeMessage
) -> Callable[[TurnContext, Exception], Awaitable[None]]:
    """A failed turn tells the user what matters (999, the DSL) and logs ids, never text.

    State is deliberately not wiped: a practitioner mid-way through the disclosure guide can
    carry on from the same step on the next message.
    """
    log = bot_logger()

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        activity = context.activity
        log.error(
            "turn_error",
            extra={
                "conversation": hash_id(activity.conversation.id if activity.conversation else None, settings.log_salt),
                "activity_type": activity.type,
                "outcome": "turn_error",
                **safe_error_fields(error),
            },
        )
        context.turn_state["outcome"] = "turn_error"
        if activity.type != ActivityTypes.message:
            return
        try:
            await context.send_activity(safe_error_message())
        except Exception as send_error:  # noqa: BLE001 - the reply channel itself is failing
            log.error("turn_error_reply_failed", extra={"outcome": "reply_failed", **safe_error_fields(send_error)})

    return on_turn_error


def silence_sdk_loggers() -> None:
    """The SDK logs at INFO in a few places with payload details; keep it at WARNING."""
    for name in ("botbuilder", "botframework", "msrest", "azure", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
