"""HTTP routes: POST /api/messages, GET /healthz, GET /readyz.

We own the aiohttp handler instead of using ``CloudAdapter.process``: the stock one answers a
request without a Content-Type, and every ``expectReplies`` request, with a 500. Here every bad
request gets a clear 4xx with a JSON body, and nothing ever returns a traceback.
"""

from __future__ import annotations

import asyncio
import json
import time
from http import HTTPStatus

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, DeliveryModes

from bot.logs import bot_logger, hash_id, safe_error_fields
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
ADAPTER = web.AppKey("adapter", object)
BOT = web.AppKey("bot", object)
STORAGE = web.AppKey("storage", object)
KNOWLEDGE = web.AppKey("knowledge", object)


def error_response(status: HTTPStatus, message: str) -> web.Response:
    return web.json_response({"error": message}, status=int(status))


def tenant_of(activity: Activity) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") if isinstance(channel_data.get("tenant"), dict) else {}
    return tenant.get("id") or (activity.conversation.tenant_id if activity.conversation else None)


def parse_activity(raw: bytes) -> Activity | web.Response:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return error_response(HTTPStatus.BAD_REQUEST, "body is not valid JSON")
    if not isinstance(body, dict):
        return error_response(HTTPStatus.BAD_REQUEST, "body must be a JSON object (an activity)")
    try:
        activity = Activity().deserialize(body)
    except Exception:  # noqa: BLE001 - msrest raises several types for wrongly typed fields
        return error_response(HTTPStatus.BAD_REQUEST, "body is not a valid activity")
    if not isinstance(activity.type, str) or not activity.type:
        return error_response(HTTPStatus.BAD_REQUEST, "activity has no type")
    return activity


async def messages(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    started = time.perf_counter()
    log = bot_logger()

    if request.content_type != "application/json":
        return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")
    if request.content_length is not None and request.content_length > settings.max_body_bytes:
        return error_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return error_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
    parsed = parse_activity(raw)
    if isinstance(parsed, web.Response):
        return parsed
    activity = parsed

    allowed_channels = settings.channels_allowed()
    if allowed_channels and activity.channel_id not in allowed_channels:
        return error_response(HTTPStatus.FORBIDDEN, "channel not allowed")
    expect_replies = activity.delivery_mode == DeliveryModes.expect_replies
    if not expect_replies and not settings.service_url_allowed(activity.service_url):
        return error_response(HTTPStatus.BAD_REQUEST, "serviceUrl missing or not allowed")
    if activity.conversation is None or not activity.conversation.id:
        return error_response(HTTPStatus.BAD_REQUEST, "activity has no conversation id")

    adapter = request.app[ADAPTER]
    bot = request.app[BOT]
    outcome: dict[str, str] = {}
    tenant = tenant_of(activity)
    refused = bool(settings.allowed_tenants) and tenant not in settings.allowed_tenants

    async def logic(context: TurnContext) -> None:
        try:
            if refused:
                await bot.refuse_tenant(context)
            else:
                await bot.on_turn(context)
        finally:
            outcome["outcome"] = context.turn_state.get("outcome", "ok")

    status = HTTPStatus.CREATED
    response: web.Response
    try:
        invoke_response = await adapter.process_activity(request.headers.get("Authorization", ""), activity, logic)
    except PermissionError:
        status = HTTPStatus.UNAUTHORIZED
        response = error_response(status, "unauthorized")
    except asyncio.CancelledError:
        raise
    except Exception as error:  # noqa: BLE001 - never a traceback to the caller
        status = HTTPStatus.BAD_GATEWAY
        outcome.setdefault("outcome", "adapter_error")
        log.error("adapter_error", extra=safe_error_fields(error))
        response = error_response(status, "the bot could not process this activity")
    else:
        if refused:
            status = HTTPStatus.FORBIDDEN
            response = error_response(status, "tenant not allowed")
        elif invoke_response is not None:
            status = HTTPStatus(invoke_response.status)
            response = web.json_response(invoke_response.body, status=invoke_response.status)
        else:
            response = web.Response(status=int(status))

    log.info(
        "activity",
        extra={
            "conversation": hash_id(activity.conversation.id, settings.log_salt),
            "tenant": hash_id(tenant, settings.log_salt),
            "activity_type": activity.type,
            "channel": activity.channel_id,
            "status": int(status),
            "outcome": outcome.get("outcome", "not_run"),
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    checks = {"knowledge": KNOWLEDGE in request.app}
    storage = request.app[STORAGE]
    try:
        await asyncio.wait_for(storage.check_ready(), timeout=3)
        checks["storage"] = True
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["storage"] = False
    ready = all(checks.values())
    return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
