"""Test support for the HTTP layer: an app with a tiny stand-in bot (so the plumbing is tested on
its own), a local channel that records replies, and a local identity server that signs real RS256
tokens and serves OpenID metadata and a JWKS, with switchable faults (hang, fail)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core import ActivityHandler, ConversationState, MessageFactory, TurnContext
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory

from bot.adapter import build_adapter
from bot.http import ADAPTER, BOT, KNOWLEDGE, SETTINGS, STORAGE, add_routes
from bot.serving import HardenedAppRunner, ServerLimits
from bot.settings import Settings
from bot.storage import ExpiringStorage, build_storage

SAFE_ERROR = "Sorry, something went wrong. If a child is in immediate danger call 999 and tell your DSL."


class StandInBot(ActivityHandler):
    """Replies "received N characters" to a message: enough to see a turn ran and where the
    reply went, without the real bot's knowledge."""

    def __init__(self, conversation_state: ConversationState | None = None, replies: int = 1) -> None:
        self.turns = 0
        self.replies = replies
        self.conversation_state = conversation_state

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        self.turns += 1
        if (turn_context.activity.text or "") == "explode":
            raise RuntimeError("stand-in failure")
        for _ in range(self.replies):
            await turn_context.send_activity(MessageFactory.text(f"received {len(turn_context.activity.text or '')}"))

    async def refuse_tenant(self, context: TurnContext) -> None:
        context.turn_state["outcome"] = "tenant_refused"


def stand_in_app(settings: Settings | None = None, *, bot: Any = None, storage: ExpiringStorage | None = None, **adapter_kwargs) -> web.Application:
    """The real HTTP layer and adapter around a stand-in bot."""
    settings = settings or Settings.from_env({})
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[KNOWLEDGE] = object()
    app[STORAGE] = storage or build_storage(settings)
    app[BOT] = bot or StandInBot()
    app[ADAPTER] = build_adapter(settings, lambda: SAFE_ERROR, **adapter_kwargs)
    add_routes(app)
    return app


def message(text: str = "hello", *, service_url: str = "http://127.0.0.1:9/", expect_replies: bool = False, **extra: Any) -> dict:
    body: dict[str, Any] = {
        "type": "message",
        "id": str(uuid.uuid4()),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": "29:user-1", "name": "Practitioner"},
        "recipient": {"id": "28:bot", "name": "Bot"},
        "conversation": {"id": f"a:conv-{uuid.uuid4()}", "conversationType": "personal", "tenantId": "tenant-test"},
        "channelData": {"tenant": {"id": "tenant-test"}},
        "text": text,
    }
    if expect_replies:
        body["deliveryMode"] = "expectReplies"
    body.update(extra)
    return body


@dataclass
class ChannelRecorder:
    """A local stand-in for the Bot Connector: records every reply; can be slowed or throttled."""

    received: list[dict] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    connections: set = field(default_factory=set)  # client (host, port) pairs: one per TCP connection
    redirect_to: str | None = None
    delay_seconds: float = 0.0
    throttle_first: int = 0
    retry_after: str = "0"
    status: int = 200

    slow_path_delay_seconds: float = 0.0  # for paths under /slow/: a second, slow serviceUrl on the same host

    def app(self) -> web.Application:
        app = web.Application()
        for prefix in ("", "/slow"):
            app.router.add_route("*", prefix + "/v3/conversations/{conversation}/activities", self.handle)
            app.router.add_route("*", prefix + "/v3/conversations/{conversation}/activities/{activity}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.connections.add(tuple(peer[:2]) if peer else None)
        if self.redirect_to:
            raise web.HTTPTemporaryRedirect(self.redirect_to)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.slow_path_delay_seconds and request.path.startswith("/slow/"):
            await asyncio.sleep(self.slow_path_delay_seconds)
        if self.throttle_first > 0:
            self.throttle_first -= 1
            return web.json_response({"error": "throttled"}, status=429, headers={"Retry-After": self.retry_after})
        body = await request.json() if request.can_read_body else {}
        self.received.append({"method": request.method, "path": request.path, **body})
        self.authorizations.append(request.headers.get("Authorization"))
        return web.json_response({"id": f"reply-{len(self.received)}"}, status=self.status)


# ---------------------------------------------------------------- identity server

APP_ID = "11111111-2222-3333-4444-555555555555"
ISSUER = "https://identity.test.local"
KID = "test-key-1"


def _private_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class IdentityServer:
    """Serves /.well-known/openid-configuration and /keys; mode "ok", "hang" or "fail"."""

    mode: str = "ok"
    endorsements: list[str] = field(default_factory=lambda: ["msteams"])
    key: Any = field(default_factory=_private_key)
    other_key: Any = field(default_factory=_private_key)
    metadata_requests: int = 0
    base_url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.metadata)
        app.router.add_get("/keys", self.keys)
        return app

    async def _fault(self) -> None:
        if self.mode == "hang":
            await asyncio.sleep(60)
        if self.mode == "fail":
            raise web.HTTPServiceUnavailable()

    async def metadata(self, request: web.Request) -> web.Response:
        self.metadata_requests += 1
        await self._fault()
        base = f"{request.scheme}://{request.host}"
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{base}/keys"})

    async def keys(self, _request: web.Request) -> web.Response:
        await self._fault()
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": KID, "use": "sig", "alg": "RS256", "endorsements": self.endorsements})
        return web.json_response({"keys": [jwk]})

    def token(
        self,
        *,
        service_url: str,
        audience: str = APP_ID,
        issuer: str = ISSUER,
        lifetime: int = 3600,
        not_before: int = 0,
        kid: str | None = KID,
        algorithm: str = "RS256",
        sign_with: Any = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "iat": now,
            "nbf": now + not_before,
            "exp": now + lifetime,
            "serviceurl": service_url,
        }
        for name in drop:
            claims.pop(name, None)
        headers = {"kid": kid} if kid else {}
        if algorithm == "HS256":
            return jwt.encode(claims, "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256", headers=headers)
        return jwt.encode(claims, sign_with or self.key, algorithm=algorithm, headers=headers)


def unsigned_token(claims: dict, kid: str = KID) -> str:
    """An ``alg: none`` token (PyJWT refuses to make one with a kid; build it by hand)."""
    import base64

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{b64(claims)}."


def authenticated_settings(identity_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        app_id=APP_ID,
        app_password="not-a-real-secret",
        app_type="SingleTenant",
        app_tenant_id="tenant-test",
        channel_openid_metadata_url=f"{identity_url}/.well-known/openid-configuration",
        channel_token_issuer=ISSUER,
        signing_key_timeout_seconds=1.0,
        allowed_tenants=frozenset({"tenant-test"}),
    )
    values.update(overrides)
    settings = Settings(**values)
    settings.validate()
    return settings


# ---------------------------------------------------------------- the hardened server, raw bytes

class HardenedTestServer(TestServer):
    """aiohttp's TestServer on the server ``app.main()`` really runs (``bot.serving``)."""

    def __init__(self, app: web.Application, *, limits: ServerLimits | None = None, **kwargs: Any) -> None:
        super().__init__(app, host="127.0.0.1", **kwargs)
        self.limits = limits

    async def _make_runner(self, **kwargs: Any) -> HardenedAppRunner:
        kwargs["handler_cancellation"] = False  # as serve() runs it (aiohttp's default)
        return HardenedAppRunner(self.app, limits=self.limits, **kwargs)


async def raw_exchange(port: int, data: bytes, *, timeout: float = 10.0, half_close: bool = False) -> bytes:
    """Send ``data`` as-is to 127.0.0.1:port and read until the server closes (bounded)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if half_close:
            writer.write_eof()
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


class LocalChannelCredentials(ServiceClientCredentialsFactory):
    """The bot's outbound credentials with a fixed channel token: stands in for Microsoft's login
    endpoint (which cannot run here), so a reply gets as far as connecting to its serviceUrl.
    Inbound validation of ``APP_ID`` is unchanged (the SDK asks ``is_valid_app_id``)."""

    class Credentials(AppCredentials):
        def get_access_token(self, force_refresh: bool = False) -> str:
            return "local-channel-token"

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == APP_ID

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        return self.Credentials(app_id=APP_ID, channel_auth_tenant="tenant-test", oauth_scope=oauth_scope)
