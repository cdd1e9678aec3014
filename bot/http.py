"""HTTP routes: POST /api/messages, GET /healthz, GET /readyz.

We own the aiohttp handler instead of using ``CloudAdapter.process``: the stock one answers a
request without a Content-Type, and every ``expectReplies`` request, with a 500. Here every bad
request gets a clear 4xx with a JSON body, and nothing ever returns a traceback:

- 415 not JSON; 413 past ``BOT_MAX_BODY_BYTES``; 400 not an activity (or no conversation, or a
  serviceUrl replies may not go to); 405 other methods (JSON body, from the error middleware);
- 401 missing or invalid token when ``MicrosoftAppId`` is set (``bot.auth``);
- 403 a channel or tenant not allowed (checked after authentication, so a stranger learns nothing
  about the allow-lists);
- a repeated delivery of the same activity id is answered without running the turn again;
- 502 when the reply could not be delivered to the channel (``bot.outbound``), so the channel
  knows; the delivery is forgotten, so its retry is processed.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from http import HTTPStatus
from urllib.parse import urlparse

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import ContentEncodingError
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, DeliveryModes
from botbuilder.schema.teams import TeamsChannelData

from bot.auth import AuthenticationFailed
from bot.dedupe import RecentActivities
from bot.logs import activity_type_field, bot_logger, hash_id, safe_error_fields
from bot.replies import CARD_CHANNELS
from bot.serving import hide_server_version
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
ADAPTER = web.AppKey("adapter", object)
BOT = web.AppKey("bot", object)
STORAGE = web.AppKey("storage", object)
KNOWLEDGE = web.AppKey("knowledge", object)
RECENT_ACTIVITIES = web.AppKey("recent_activities", RecentActivities)

# Invoke activities the bot answers. Its cards use Action.Submit (a message), so none yet: any
# other invoke gets the protocol's 501 without running the SDK's invoke parsing, which crashes
# on malformed values (found by the fuzz test).
HANDLED_INVOKES: frozenset[str] = frozenset()

# Turn outcomes that mean the channel did not get our reply.
UNDELIVERED_OUTCOMES = frozenset({"reply_failed"})


def error_response(status: HTTPStatus, message: str) -> web.Response:
    return web.json_response({"error": message}, status=int(status))


def tenant_ids(body: dict) -> tuple[str | None, str | None]:
    """The tenant the activity names in channelData.tenant.id and in conversation.tenantId, read
    from the JSON itself: the SDK's ConversationAccount maps ``tenant_id`` to "tenantID", so the
    "tenantId" Teams sends never reaches it (issue 16, item 6). Lower-cased: tenant ids are GUIDs."""
    channel_data = body.get("channelData") if isinstance(body.get("channelData"), dict) else {}
    tenant = channel_data.get("tenant") if isinstance(channel_data.get("tenant"), dict) else {}
    conversation = body.get("conversation") if isinstance(body.get("conversation"), dict) else {}
    found = (tenant.get("id"), conversation.get("tenantId"))
    return tuple(value.strip().lower() if isinstance(value, str) and value.strip() else None for value in found)


def tenant_of(body: dict) -> str | None:
    """The activity's tenant, or None if it names none, or two that disagree."""
    from_channel_data, from_conversation = tenant_ids(body)
    if from_channel_data and from_conversation and from_channel_data != from_conversation:
        return None
    return from_channel_data or from_conversation


def tenant_refused(settings: Settings, body: dict) -> bool:
    """Refused when the two places disagree, or an allow-list is set and the tenant is not on it
    (compared case-insensitively)."""
    from_channel_data, from_conversation = tenant_ids(body)
    if from_channel_data and from_conversation and from_channel_data != from_conversation:
        return True
    if not settings.allowed_tenants:
        return False
    tenant = from_channel_data or from_conversation
    return tenant is None or tenant not in {allowed.strip().lower() for allowed in settings.allowed_tenants}


def parse_activity(raw: bytes) -> Activity | web.Response:
    """The request body as an Activity, or the 400 that says why it is not one."""
    body = parse_body(raw)
    return body if isinstance(body, web.Response) else activity_from(body)


def parse_body(raw: bytes) -> dict | web.Response:
    """The request body as a JSON object, or the 400 that says why it is not one."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return error_response(HTTPStatus.BAD_REQUEST, "body is not valid JSON")
    if not isinstance(body, dict):
        return error_response(HTTPStatus.BAD_REQUEST, "body must be a JSON object (an activity)")
    return body


def activity_from(body: dict) -> Activity | web.Response:
    """The SDK trusts the shape of what it is given: an empty channelId, a mention entity without an
    id or a non-object channelData each crashed a turn (found by tests/hardening/test_fuzz.py). The Bot Framework protocol requires type, channelId,
    conversation, from and recipient; everything the SDK reaches into is checked here.
    """
    problem = activity_shape_problem(body)
    if problem:
        return error_response(HTTPStatus.BAD_REQUEST, problem)
    try:
        activity = Activity().deserialize(body)
        if activity.channel_id == "msteams" and activity.channel_data is not None:
            TeamsChannelData().deserialize(activity.channel_data)
    except Exception:  # noqa: BLE001 - msrest raises several types for wrongly typed fields
        return error_response(HTTPStatus.BAD_REQUEST, "body is not a valid activity")
    return activity


def valid_unicode(body: object) -> bool:
    """False if any string in the parsed body holds a lone UTF-16 surrogate: JSON can escape one
    (``"\\ud800"``) and ``json.loads`` also lets UTF-8-encoded ones through (surrogatepass), and
    no UTF-8 encoder accepts the result (hashing one for the log was a 500 before authentication)."""
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _is_account(value: object, *, needs_id: bool = False) -> bool:
    if not isinstance(value, dict):
        return False
    return _is_text(value.get("id")) if needs_id else value.get("id") is None or isinstance(value.get("id"), str)


def activity_shape_problem(body: dict) -> str | None:
    """What is wrong with the shape of an activity, or None."""
    if not _is_text(body.get("type")):
        return "activity has no type"
    if not _is_text(body.get("channelId")):
        return "activity has no channelId"
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not _is_text(conversation.get("id")):
        return "activity has no conversation id"
    for name in ("conversationType", "tenantId"):
        if conversation.get(name) is not None and not isinstance(conversation.get(name), str):
            return f"conversation {name} must be a string"
    if not _is_account(body.get("from")) or not _is_account(body.get("recipient")):
        return "activity needs from and recipient accounts"
    for name in ("id", "serviceUrl", "deliveryMode", "text", "locale", "replyToId", "name"):
        if body.get(name) is not None and not isinstance(body.get(name), str):
            return f"activity field {name} must be a string"
    if body.get("channelData") is not None and not isinstance(body.get("channelData"), dict):
        return "channelData must be an object"
    for name in ("entities", "attachments", "membersAdded", "membersRemoved", "reactionsAdded", "reactionsRemoved"):
        items = body.get(name)
        if items is not None and (not isinstance(items, list) or not all(isinstance(item, dict) for item in items)):
            return f"{name} must be a list of objects"
    for entity in body.get("entities") or []:
        if not _is_text(entity.get("type")):
            return "every entity needs a type"
        if entity["type"].lower() == "mention":
            if not _is_account(entity.get("mentioned"), needs_id=True) or not isinstance(entity.get("text", ""), str):
                return "a mention entity needs a mentioned account and text"
    for member in (body.get("membersAdded") or []) + (body.get("membersRemoved") or []):
        if not _is_account(member):
            return "members must be accounts"
    for attachment in body.get("attachments") or []:
        if attachment.get("contentType") is not None and not isinstance(attachment.get("contentType"), str):
            return "attachment contentType must be a string"
    return None


async def messages(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    started = time.perf_counter()

    if request.content_type != "application/json":
        return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")
    if request.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity"):
        # The Bot Connector sends plain JSON. Decoding is off in the server (bot.serving): a bad
        # gzip body was a 500, and "br" a plain-text 400 naming a package to install.
        return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the activity uncompressed (no Content-Encoding)")
    if request.content_length is not None and request.content_length > settings.max_body_bytes:
        return error_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
    try:
        async with asyncio.timeout(settings.body_timeout_seconds):
            raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return error_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")
    except TimeoutError:
        response = error_response(HTTPStatus.REQUEST_TIMEOUT, "request body took too long to arrive")
        response.force_close()
        return response
    except (ConnectionError, ClientPayloadError, ContentEncodingError) as error:
        # The client went away mid-body (or sent a body that does not decode): its business.
        bot_logger().info("request_body_unread", extra={"outcome": "body_unread", "error_type": type(error).__name__})
        response = error_response(HTTPStatus.BAD_REQUEST, "the request body could not be read")
        response.force_close()
        return response
    body = parse_body(raw)
    if isinstance(body, web.Response):
        return body
    parsed = activity_from(body)
    if isinstance(parsed, web.Response):
        return parsed
    activity = parsed

    status, response, outcome = await _process(request, settings, activity, body, valid_unicode(body))
    bot_logger().info(
        "activity",
        extra={
            "conversation": hash_id(activity.conversation.id, settings.log_salt),
            "tenant": hash_id(tenant_of(body), settings.log_salt),
            "activity_type": activity_type_field(activity.type),
            # channelId is caller-chosen text: log it only when it names a channel we know.
            "channel": activity.channel_id if activity.channel_id in CARD_CHANNELS else "other",
            "status": int(status),
            "outcome": outcome,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response


async def _process(
    request: web.Request, settings: Settings, activity: Activity, body: dict, unicode_ok: bool = True
) -> tuple[int, web.Response, str]:
    adapter = request.app[ADAPTER]
    bot = request.app[BOT]
    try:
        authenticated = await adapter.bot_framework_authentication.authenticate_request(
            activity, request.headers.get("Authorization")
        )
    except AuthenticationFailed:
        return 401, error_response(HTTPStatus.UNAUTHORIZED, "unauthorized"), "unauthorized"
    if not unicode_ok:
        # Told only to an authenticated caller (401 first): a lone surrogate cannot be stored,
        # hashed or sent back, so the turn does not run at all.
        return 400, error_response(HTTPStatus.BAD_REQUEST, "activity contains invalid Unicode (a lone surrogate)"), "invalid_unicode"

    allowed_channels = settings.channels_allowed()
    if allowed_channels and activity.channel_id not in allowed_channels:
        return 403, error_response(HTTPStatus.FORBIDDEN, "channel not allowed"), "channel_refused"
    expect_replies = activity.delivery_mode == DeliveryModes.expect_replies
    if expect_replies and activity.service_url and urlparse(activity.service_url).scheme not in ("http", "https"):
        # Nothing is sent there, but the SDK would echo it back in every reply's serviceUrl.
        return 400, error_response(HTTPStatus.BAD_REQUEST, "serviceUrl must be an http(s) URL"), "service_url_refused"
    if not expect_replies and not settings.service_url_allowed(activity.service_url):
        return 400, error_response(HTTPStatus.BAD_REQUEST, "serviceUrl missing or not allowed"), "service_url_refused"

    if activity.type == ActivityTypes.invoke and activity.name not in HANDLED_INVOKES:
        return 501, error_response(HTTPStatus.NOT_IMPLEMENTED, "this bot handles no such invoke"), "invoke_not_handled"

    recent = request.app[RECENT_ACTIVITIES]
    conversation_id = activity.conversation.id
    if not recent.claim(conversation_id, activity.id):
        body = {"activities": []} if expect_replies else {"duplicate": True}
        return 200, web.json_response(body), "duplicate"

    refused = tenant_refused(settings, body)
    turn: list[TurnContext] = []

    async def logic(context: TurnContext) -> None:
        turn.append(context)  # read after the turn-error handler has had its say
        if refused:
            await bot.refuse_tenant(context)
        else:
            await bot.on_turn(context)

    try:
        invoke_response = await adapter.process_activity(authenticated, activity, logic)
    except asyncio.CancelledError:
        recent.release(conversation_id, activity.id)
        raise
    except Exception as error:  # noqa: BLE001 - never a traceback to the caller
        recent.release(conversation_id, activity.id)
        bot_logger().error("adapter_error", extra={"outcome": "adapter_error", **safe_error_fields(error)})
        return 500, error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "the bot could not process this activity"), "adapter_error"

    result = turn[0].turn_state.get("outcome", "ok") if turn else "not_run"
    if result in UNDELIVERED_OUTCOMES:
        recent.release(conversation_id, activity.id)
        return 502, error_response(HTTPStatus.BAD_GATEWAY, "the reply could not be delivered to the channel"), result
    if refused:
        return 403, error_response(HTTPStatus.FORBIDDEN, "tenant not allowed"), result
    if invoke_response is not None:
        return invoke_response.status, invoke_json(invoke_response), result
    return 201, web.Response(status=201), result


def invoke_json(invoke_response) -> web.Response:
    """An invoke's answer; the SDK may leave a model object (not plain JSON) in the body."""
    body = invoke_response.body
    if hasattr(body, "serialize"):
        body = body.serialize()
    try:
        text = json.dumps(body)
    except (TypeError, ValueError):
        text = "null"
    return web.Response(text=text, status=invoke_response.status, content_type="application/json")


async def feedback(request: web.Request) -> web.Response:
    """Helpful / not-helpful clicks per FAQ entry id since start-up (ids and counts only).

    Anonymous local mode: open (loopback only). With credentials it needs
    ``Authorization: Bearer $BOT_FEEDBACK_TOKEN``, and without that setting it is not served."""
    settings = request.app[SETTINGS]
    if not settings.anonymous:
        if not settings.feedback_token:
            return error_response(HTTPStatus.NOT_FOUND, "Not Found")
        given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, f"Bearer {settings.feedback_token}".encode()):
            return error_response(HTTPStatus.UNAUTHORIZED, "unauthorized")
    counter = request.app[BOT].feedback
    ids = sorted(set(counter.helpful) | set(counter.not_helpful))
    return web.json_response(
        {entry_id: {"helpful": counter.helpful[entry_id], "not_helpful": counter.not_helpful[entry_id]} for entry_id in ids}
    )


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


@web.middleware
async def json_errors(request: web.Request, handler):
    """Every error the framework raises (404, 405, 413...) as JSON; anything unexpected as a bare
    500: the caller never sees a traceback, the log gets the error's type and place only."""
    try:
        return await handler(request)
    except web.HTTPException as http_error:
        if http_error.status < 400:
            raise
        response = web.json_response({"error": http_error.reason}, status=http_error.status)
        if http_error.status == 405 and "Allow" in http_error.headers:
            response.headers["Allow"] = http_error.headers["Allow"]
        return response
    except asyncio.CancelledError:
        raise
    except ConnectionError as error:  # the client went away: nobody reads an answer now
        bot_logger().info("client_disconnected", extra={"outcome": "client_disconnected", "error_type": type(error).__name__})
        return error_response(HTTPStatus.BAD_REQUEST, "connection closed")
    except Exception as error:  # noqa: BLE001
        bot_logger().error("http_error", extra={"outcome": "http_error", **safe_error_fields(error)})
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")


async def _start_adapter(app: web.Application) -> None:
    start = getattr(app[ADAPTER], "start", None)
    if start is not None:
        await start()


async def _close_adapter(app: web.Application) -> None:
    close = getattr(app[ADAPTER], "close", None)
    if close is not None:
        await close()


def add_routes(app: web.Application) -> None:
    """Routes, the error middleware, the duplicate-delivery memory and the adapter's start-up
    (signing keys warmed) and clean-up (outbound session closed)."""
    app.middlewares.append(json_errors)
    hide_server_version(app)
    app[RECENT_ACTIVITIES] = RecentActivities()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/feedback", feedback)
    app.on_startup.append(_start_adapter)
    app.on_cleanup.append(_close_adapter)
