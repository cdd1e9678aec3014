"""The CloudAdapter, its turn-error handler, and the fixes to the SDK it needs.

The Bot Framework SDK for Python is archived upstream; anything we change about its behaviour is
done here, in the open, with the reason beside it.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Awaitable, Callable, List

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity, ActivityTypes, ConversationReference, ResourceResponse
from botframework.connector.auth import AuthenticationConstants, ServiceClientCredentialsFactory

from bot.auth import GuardedAuthentication, SigningKeyCache, install_signing_key_cache, metadata_urls
from bot.logs import activity_type_field, bot_logger, hash_id, safe_error_fields
from bot.outbound import OutboundError, OutboundLimits, OutboundReplies
from bot.replies import send_replies
from bot.settings import Settings
from bot.storage import StorageConflict, StorageUnavailable

MAX_DELAY_SECONDS = 5.0

SafeMessage = Callable[[], str]
OutageReplies = Callable[[], list]


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
    """The attribute names the SDK's ConfigurationBotFrameworkAuthentication reads.

    A configured channel metadata URL and issuer switch the SDK to its parameterised
    authentication, which needs every endpoint named: the others keep their public-cloud values.
    """
    config = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.effective_app_type if settings.app_id else "MultiTenant",
        APP_TENANTID=settings.app_tenant_id,
    )
    if settings.channel_openid_metadata_url:
        config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.channel_openid_metadata_url
        config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = settings.channel_token_issuer
        config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
        config.TO_CHANNEL_FROM_BOT_LOGIN_URL = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL
        config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        config.OAUTH_URL = AuthenticationConstants.OAUTH_URL
    return config


class SafeguardingAdapter(CloudAdapter):
    """The SDK's CloudAdapter with replies sent by ``OutboundReplies`` (one pooled aiohttp session,
    short timeouts, 429 back-off, serviceUrl allow-list) instead of msrest/requests on a thread
    pool. Inbound authentication is the SDK's, behind ``GuardedAuthentication``."""

    def __init__(
        self,
        authentication: GuardedAuthentication,
        outbound: OutboundReplies,
        channel_signing_keys: SigningKeyCache | None = None,
    ) -> None:
        super().__init__(authentication)
        self.outbound = outbound
        self.channel_signing_keys = channel_signing_keys

    async def send_activities(self, context: TurnContext, activities: List[Activity]) -> List[ResourceResponse]:
        scope = context.turn_state.get(self.BOT_OAUTH_SCOPE_KEY)
        responses: list[ResourceResponse] = []
        for activity in activities:
            activity.id = None
            response = ResourceResponse(id="")
            if activity.type == "delay":
                await asyncio.sleep(min(MAX_DELAY_SECONDS, (activity.value or 1000) / 1000))
            elif activity.type == ActivityTypes.invoke_response:
                context.turn_state[self._INVOKE_RESPONSE_KEY] = activity
            elif activity.type == ActivityTypes.trace:
                pass  # traces are for the Emulator, which this bot does not serve
            else:
                response = await self.outbound.send(activity, scope)
            responses.append(response)
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity):
        return await self.outbound.update(activity, context.turn_state.get(self.BOT_OAUTH_SCOPE_KEY))

    async def delete_activity(self, context: TurnContext, reference: ConversationReference):
        await self.outbound.delete(
            reference.service_url,
            reference.conversation.id if reference.conversation else None,
            reference.activity_id,
            context.turn_state.get(self.BOT_OAUTH_SCOPE_KEY),
        )

    async def start(self, _app: web.Application | None = None) -> None:
        """Warm the channel's signing keys (registered as an aiohttp on_startup handler)."""
        if self.channel_signing_keys is not None:
            self.channel_signing_keys.prefetch()

    async def close(self, _app: web.Application | None = None) -> None:
        """Close the outbound session (registered as an aiohttp on_cleanup handler)."""
        await self.outbound.close()


def build_adapter(
    settings: Settings,
    safe_error_message: SafeMessage,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    outbound_limits: OutboundLimits | None = None,
    outage_replies: OutageReplies | None = None,
) -> SafeguardingAdapter:
    apply_sdk_performance_fixes()
    signing_keys = install_signing_key_cache(
        settings.channel_openid_metadata_url, timeout_seconds=settings.signing_key_timeout_seconds
    )
    configuration = sdk_configuration(settings)
    credentials_factory = credentials_factory or ConfigurationServiceClientCredentialFactory(configuration)
    authentication = GuardedAuthentication(
        ConfigurationBotFrameworkAuthentication(configuration, credentials_factory=credentials_factory),
        auth_required=not settings.anonymous,
    )
    outbound = OutboundReplies(settings, credentials_factory, outbound_limits)
    channel_keys = None if settings.anonymous else signing_keys[metadata_urls(settings.channel_openid_metadata_url)[0]]
    adapter = SafeguardingAdapter(authentication, outbound, channel_keys)
    adapter.on_turn_error = make_turn_error_handler(settings, safe_error_message, outage_replies)
    return adapter


def make_turn_error_handler(
    settings: Settings, safe_error_message: SafeMessage, outage_replies: OutageReplies | None = None
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
                "activity_type": activity_type_field(activity.type),
                "outcome": "turn_error",
                **safe_error_fields(error),
            },
        )
        context.turn_state["outcome"] = "turn_error"
        if isinstance(error, OutboundError):
            # The channel cannot be reached: a second reply would fail the same way.
            context.turn_state["outcome"] = "reply_failed"
            return
        if activity.type != ActivityTypes.message:
            return
        try:
            if isinstance(error, (StorageUnavailable, StorageConflict)) and outage_replies is not None:
                # State store down (bot/storage.py): 999 and the national routes need no state.
                context.turn_state["outcome"] = "storage_unavailable"
                await send_replies(context, outage_replies())
                return
            await context.send_activity(safe_error_message())
        except Exception as send_error:  # noqa: BLE001 - the reply channel itself is failing
            context.turn_state["outcome"] = "reply_failed"
            log.error("turn_error_reply_failed", extra={"outcome": "reply_failed", **safe_error_fields(send_error)})

    return on_turn_error


def silence_sdk_loggers() -> None:
    """The SDK logs at INFO in a few places with payload details; keep it at WARNING."""
    for name in ("botbuilder", "botframework", "msrest", "azure", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
