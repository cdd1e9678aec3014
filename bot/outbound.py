"""Replies to the channel (the activity's serviceUrl), sent by us rather than by msrest.

The SDK sends each reply through msrest and ``requests`` on the default thread pool (6 workers on 2
cores), with a 100 s timeout, a new connection per reply (a TLS handshake each time in production)
and 4.8 s of retries against an unreachable serviceUrl. Measured on botbuilder 4.17.1: 12 replies
stuck on one slow serviceUrl delayed a reply to a healthy one by 39 s.

Here every reply goes out on one shared aiohttp ``ClientSession`` per app: keep-alive connections,
a bounded pool, short timeouts, and a bounded back-off on 429 (and 503) that honours
``Retry-After``. Each serviceUrl has its own lane of at most ``per_service_url`` replies in flight:
one slow serviceUrl queues only its own replies and never starves other conversations. (A cap per
host would not do: Teams' regional serviceUrls share one host, smba.trafficmanager.net.) Every destination is checked against ``Settings.service_url_allowed``
(anonymous mode: loopback only), so a caller cannot make the bot post anywhere it likes.
Any failure is an ``OutboundError`` whose message is a reason code, never a payload.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Callable
from urllib.parse import quote

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver
from botbuilder.schema import Activity, ResourceResponse
from botframework.connector.auth import AuthenticationConstants, ServiceClientCredentialsFactory

from bot.settings import Settings

RETRY_STATUSES = frozenset({429, 503})
MAX_IDLE_LANES = 1024
TOKEN_REUSE_SECONDS = 5 * 60  # channel tokens live for an hour; msal caches them too


class OutboundError(Exception):
    """A reply could not be delivered. ``str(error)`` is a reason code, safe to log."""


class AddressRefused(OSError):
    """A reply would have connected to a private, loopback or link-local address."""

    def __init__(self) -> None:
        super().__init__(errno.EACCES, "address refused by policy")


def address_guard(settings: Settings) -> Callable[[AddrInfoType], socket.socket]:
    """aiohttp's socket factory for replies: every address a reply connects to (an IP in the URL,
    or whatever its name resolved to, each time it is resolved) must pass
    ``Settings.reply_address_allowed`` (public only with credentials, loopback only without). This
    is the check after DNS: a name that resolves to 169.254.169.254 or 10.x is refused here, at
    connect time, before a socket exists."""

    def make_socket(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, address = addr_info
        if family not in (socket.AF_INET, socket.AF_INET6) or not settings.reply_address_allowed(str(address[0])):
            raise AddressRefused()
        return socket.socket(family=family, type=type_, proto=proto)

    return make_socket


@dataclass(frozen=True)
class OutboundLimits:
    total_connections: int = 256
    per_service_url: int = 16
    connect_timeout_seconds: float = 3.0
    total_timeout_seconds: float = 10.0
    max_retries: int = 3
    max_retry_after_seconds: float = 5.0
    token_timeout_seconds: float = 10.0


def retry_delay(response_headers: Any, attempt: int, cap: float) -> float:
    """Seconds to wait before retrying a throttled call: the server's Retry-After (seconds or an
    HTTP date) when it gives one, else exponential from 0.5 s; never more than ``cap``."""
    raw = (response_headers or {}).get("Retry-After")
    delay: float | None = None
    if raw:
        try:
            delay = float(raw)
        except ValueError:
            try:
                delay = parsedate_to_datetime(raw).timestamp() - time.time()
            except (TypeError, ValueError):
                delay = None
    if delay is None:
        delay = 0.5 * (2**attempt)
    return max(0.0, min(cap, delay))


class Lane:
    """At most ``size`` replies in flight to one serviceUrl; the rest wait here, not in the pool."""

    def __init__(self, size: int) -> None:
        self.gate = asyncio.Semaphore(size)
        self.in_flight = 0


class OutboundReplies:
    def __init__(
        self,
        settings: Settings,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
        limits: OutboundLimits | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.settings = settings
        self.resolver = resolver  # None: aiohttp's own (the system's DNS)
        self.credentials_factory = credentials_factory
        self.limits = limits or OutboundLimits()
        self._session: aiohttp.ClientSession | None = None
        self._credentials: dict[str, Any] = {}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._token_locks: dict[str, asyncio.Lock] = {}
        self._lanes: OrderedDict[str, Lane] = OrderedDict()

    # ------------------------------------------------------------------ public API

    async def send(self, activity: Activity, oauth_scope: str | None = None) -> ResourceResponse:
        conversation_id = _required(activity.conversation.id if activity.conversation else None, "no_conversation")
        path = f"v3/conversations/{quote(conversation_id, safe='')}/activities"
        if activity.reply_to_id:
            path += f"/{quote(activity.reply_to_id, safe='')}"
        body = await self._call("POST", activity.service_url, path, oauth_scope, activity.serialize())
        return ResourceResponse(id=(body or {}).get("id") if isinstance(body, dict) else None)

    async def update(self, activity: Activity, oauth_scope: str | None = None) -> ResourceResponse | None:
        conversation_id = _required(activity.conversation.id if activity.conversation else None, "no_conversation")
        activity_id = _required(activity.id, "no_activity_id")
        path = f"v3/conversations/{quote(conversation_id, safe='')}/activities/{quote(activity_id, safe='')}"
        body = await self._call("PUT", activity.service_url, path, oauth_scope, activity.serialize())
        reply_id = body.get("id") if isinstance(body, dict) else None
        return ResourceResponse(id=reply_id) if reply_id else None

    async def delete(
        self, service_url: str | None, conversation_id: str | None, activity_id: str | None, oauth_scope: str | None = None
    ) -> None:
        conversation_id = _required(conversation_id, "no_conversation")
        activity_id = _required(activity_id, "no_activity_id")
        path = f"v3/conversations/{quote(conversation_id, safe='')}/activities/{quote(activity_id, safe='')}"
        await self._call("DELETE", service_url, path, oauth_scope, None)

    @property
    def closed(self) -> bool:
        return self._session is None or self._session.closed

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    # ------------------------------------------------------------------ internals

    def _client(self) -> aiohttp.ClientSession:
        """The app's one session, made on first use inside the running loop."""
        if self._session is None or self._session.closed:
            limits = self.limits
            connector = aiohttp.TCPConnector(
                limit=limits.total_connections,
                limit_per_host=0,
                keepalive_timeout=60,
                resolver=self.resolver,
                # Anonymous mode replies only to loopback; with credentials, only to public
                # addresses: checked by URL (Settings.service_url_allowed) and again here, by
                # the address each connection is really made to.
                socket_factory=address_guard(self.settings),
            )
            timeout = aiohttp.ClientTimeout(
                total=limits.total_timeout_seconds, sock_connect=limits.connect_timeout_seconds
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, raise_for_status=False, json_serialize=_dumps
            )
        return self._session

    async def _call(self, method: str, service_url: str | None, path: str, oauth_scope: str | None, payload: Any) -> Any:
        if not self.settings.service_url_allowed(service_url):
            raise OutboundError("service_url_not_allowed")
        url = f"{service_url.rstrip('/')}/{path}"
        headers = {}
        token = await self.bearer_token(oauth_scope)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        lane = self._lane(service_url)
        lane.in_flight += 1
        try:
            try:
                await asyncio.wait_for(lane.gate.acquire(), self.limits.total_timeout_seconds)
            except asyncio.TimeoutError:
                raise OutboundError("channel_busy") from None
            try:
                return await self._request(method, url, headers, payload)
            finally:
                lane.gate.release()
        finally:
            lane.in_flight -= 1

    def _lane(self, service_url: str) -> Lane:
        key = service_url.rstrip("/").lower()
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = Lane(self.limits.per_service_url)
            if len(self._lanes) > MAX_IDLE_LANES:
                idle = [k for k, v in self._lanes.items() if v.in_flight == 0 and k != key]
                for stale in idle[: len(self._lanes) - MAX_IDLE_LANES]:
                    del self._lanes[stale]
        else:
            self._lanes.move_to_end(key)
        return lane

    async def _request(self, method: str, url: str, headers: dict, payload: Any) -> Any:
        session = self._client()
        limits = self.limits
        for attempt in range(limits.max_retries + 1):
            try:
                async with session.request(method, url, json=payload, headers=headers, allow_redirects=False) as response:
                    if response.status in RETRY_STATUSES and attempt < limits.max_retries:
                        delay = retry_delay(response.headers, attempt, limits.max_retry_after_seconds)
                    elif 200 <= response.status < 300:
                        if response.content_type == "application/json":
                            try:
                                return await response.json()
                            except ValueError:
                                return None
                        return None
                    else:
                        raise OutboundError(f"channel_status_{response.status}")
            except OutboundError:
                raise
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                if isinstance(getattr(error, "os_error", None), AddressRefused):
                    raise OutboundError("service_url_address_refused") from None
                raise OutboundError(f"channel_unreachable_{type(error).__name__}") from None
            await asyncio.sleep(delay)
        raise OutboundError("channel_throttled")  # pragma: no cover - the loop returns or raises

    async def bearer_token(self, oauth_scope: str | None) -> str | None:
        """A bearer token for the channel, or None in anonymous mode.

        The SDK builds new credentials (and a new msal application, so an empty token cache) on
        every turn; here one credentials object per audience lives as long as the app, and the
        blocking msal call runs in a thread under a timeout.
        """
        if self.settings.anonymous or self.credentials_factory is None:
            return None
        scope = oauth_scope or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        cached = self._tokens.get(scope)
        if cached and time.monotonic() - cached[1] < TOKEN_REUSE_SECONDS:
            return cached[0]
        lock = self._token_locks.setdefault(scope, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(scope)
            if cached and time.monotonic() - cached[1] < TOKEN_REUSE_SECONDS:
                return cached[0]
            credentials = self._credentials.get(scope)
            if credentials is None:
                credentials = await self.credentials_factory.create_credentials(
                    self.settings.app_id, scope, AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL, True
                )
                self._credentials[scope] = credentials
            if not getattr(credentials, "microsoft_app_id", None):
                return None
            try:
                token = await asyncio.wait_for(
                    asyncio.to_thread(credentials.get_access_token), self.limits.token_timeout_seconds
                )
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the reason may quote configuration; keep it out
                raise OutboundError("channel_token_unavailable") from None
            self._tokens[scope] = (token, time.monotonic())
            return token


def _required(value: str | None, reason: str) -> str:
    if not value:
        raise OutboundError(reason)
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
