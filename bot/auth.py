"""Inbound authentication: the SDK validates every JWT; this module makes its failures safe.

Two things in botbuilder 4.17.1 make authentication a liability as shipped:

- ``JwtTokenExtractor`` fetches the OpenID metadata and signing keys with a blocking
  ``requests.get`` that has no timeout, on the event loop. A hung identity endpoint froze the whole
  process (``/healthz`` included) for ~40 s, and a failed fetch was retried on every request.
- Every validation failure (garbage token, expired, unknown key id, ``alg=none``, ...) escapes as
  an arbitrary exception, which a stock host turns into a 500 with a traceback.

The SDK keeps one metadata object per URL in its public class-level ``JwtTokenExtractor.metadataCache``
and calls only ``await metadata.get(key_id)`` on it. ``install_signing_key_cache`` puts a
``SigningKeyCache`` there before the first request: same contract, but fetched asynchronously with
aiohttp under a timeout, one fetch in flight at a time, stale keys served while a refresh runs, and a
failed fetch backed off (negative cache) instead of retried per request. The JWT checks themselves
(signature, issuer, expiry, audience, endorsements, serviceUrl claim) stay the SDK's.

``GuardedAuthentication`` wraps the SDK's ``BotFrameworkAuthentication`` so that any failure to
authenticate is an ``AuthenticationFailed`` (a ``PermissionError``: the HTTP layer answers 401) and is
logged by type only: a token, like message text, never reaches a log.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Callable

import aiohttp
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenExtractor,
    UserTokenClient,
)
from jwt.algorithms import RSAAlgorithm

from bot.logs import bot_logger, safe_error_fields

KEYS_MAX_AGE_SECONDS = 24 * 60 * 60  # the SDK's own refresh interval
UNKNOWN_KID_REFRESH_SECONDS = 5 * 60  # an unknown key id may mean keys rolled; look again, rarely
# After a failed fetch, requests are refused (401) without fetching until the back-off passes;
# then one request fetches again for all. Doubling from 1 s, capped at 5 s: while the key server
# is down it is asked at most once per 5 s (never once per request), and once it is back the keys
# are in hand within 5 s. (A 300 s cap meant 25 s and more of 401s after it came back.)
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 5.0
MAX_METADATA_BYTES = 1024 * 1024
MAX_TOKEN_LIFETIME_SECONDS = 2 * 60 * 60  # a token may not be valid for longer than this from now


class AuthenticationFailed(PermissionError):
    """The request is not authenticated (HTTP 401). The message is a fixed reason code."""


class SigningKeysUnavailable(AuthenticationFailed):
    """The signing keys could not be fetched (or are backing off): the token cannot be trusted."""


@dataclass(frozen=True)
class SigningKey:
    """What the SDK's ``JwtTokenExtractor`` reads from a metadata lookup."""

    public_key: Any
    endorsements: list


class SigningKeyCache:
    """Signing keys of one OpenID metadata URL, with the SDK's ``_OpenIdMetadata`` contract
    (``await get(key_id)``) but safe for an event loop: see the module docstring."""

    def __init__(
        self,
        metadata_url: str,
        *,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metadata_url = metadata_url
        self.timeout_seconds = timeout_seconds
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._retry_at = 0.0
        self._backoff = 0.0
        self._inflight: asyncio.Task | None = None
        self.fetch_count = 0  # how many fetches were attempted: the negative cache is observable

    async def get(self, key_id: str | None) -> SigningKey:
        now = self._clock()
        if self._fetched_at is None:
            await self._refresh(now)
        elif now - self._fetched_at > KEYS_MAX_AGE_SECONDS:
            self._start_refresh(now)  # keep serving the keys we have while new ones come
        key = self._keys.get(key_id or "")
        if key is None and self._fetched_at is not None and now - self._fetched_at > UNKNOWN_KID_REFRESH_SECONDS:
            await self._refresh(now)
            key = self._keys.get(key_id or "")
        if key is None:
            raise AuthenticationFailed("unknown_signing_key")
        return key

    def prefetch(self) -> None:
        """Start fetching the keys in the background (at start-up), so the first request does not
        wait for them and an unreachable key server shows in the log before traffic does."""
        self._start_refresh(self._clock())

    async def _refresh(self, now: float) -> None:
        task = self._start_refresh(now)
        if task is None:
            if not self._keys:
                raise SigningKeysUnavailable("signing_keys_backing_off")
            return
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the reason is logged in _fetch; the caller gets a 401
            if not self._keys:
                raise SigningKeysUnavailable("signing_keys_unavailable") from None

    def _start_refresh(self, now: float) -> asyncio.Task | None:
        """One fetch in flight per URL and event loop; none while backing off after a failure."""
        loop = asyncio.get_running_loop()
        task = self._inflight
        if task is not None and not task.done() and task.get_loop() is loop:
            return task
        if now < self._retry_at:
            return None
        self._inflight = loop.create_task(self._fetch())
        self._inflight.add_done_callback(_consume_outcome)
        return self._inflight

    async def _fetch(self) -> None:
        self.fetch_count += 1
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                metadata = await _get_json(session, self.metadata_url)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                if not isinstance(jwks_uri, str):
                    raise ValueError("OpenID metadata has no jwks_uri")
                jwks = await _get_json(session, jwks_uri)
            keys = _parse_jwks(jwks)
        except Exception as error:
            self._backoff = min(MAX_BACKOFF_SECONDS, max(FIRST_BACKOFF_SECONDS, self._backoff * 2))
            self._retry_at = self._clock() + self._backoff
            bot_logger().warning(
                "signing_keys_fetch_failed",
                extra={"outcome": "signing_keys_unavailable", "retry_in_s": self._backoff, **safe_error_fields(error)},
            )
            raise
        self._keys = keys
        self._fetched_at = self._clock()
        self._backoff = 0.0
        self._retry_at = 0.0


def _consume_outcome(task: asyncio.Task) -> None:
    """A background refresh nobody awaits: its failure is already logged and backed off."""
    if not task.cancelled():
        task.exception()


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        response.raise_for_status()
        body = await response.content.read(MAX_METADATA_BYTES + 1)
        if len(body) > MAX_METADATA_BYTES:
            raise ValueError("OpenID document too large")
        return json.loads(body)


def _parse_jwks(jwks: Any) -> dict[str, SigningKey]:
    keys: dict[str, SigningKey] = {}
    for jwk in (jwks or {}).get("keys", []) if isinstance(jwks, dict) else []:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or jwk.get("kty") != "RSA":
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
        except Exception:  # noqa: BLE001 - one malformed key must not hide the others
            continue
        endorsements = jwk.get("endorsements") if isinstance(jwk.get("endorsements"), list) else []
        keys[jwk["kid"]] = SigningKey(public_key, endorsements)
    if not keys:
        raise ValueError("JWKS has no usable RSA keys")
    return keys


def metadata_urls(channel_metadata_url: str = "") -> tuple[str, ...]:
    """Every metadata URL the SDK may fetch for an inbound token: the channel's (public cloud or
    configured) and the emulator/skill one, which any token claiming a Microsoft issuer reaches."""
    return (
        channel_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    )


def install_signing_key_cache(channel_metadata_url: str = "", *, timeout_seconds: float = 5.0) -> dict[str, SigningKeyCache]:
    """Put a ``SigningKeyCache`` in the SDK's metadata cache for every URL it may fetch.

    Called when the adapter is built (never at import). The SDK's cache is process-wide, so the
    most recently built adapter's caches serve every adapter in the process; they are equivalent.
    """
    installed = {}
    for url in metadata_urls(channel_metadata_url):
        installed[url] = JwtTokenExtractor.metadataCache[url] = SigningKeyCache(url, timeout_seconds=timeout_seconds)
    return installed


class GuardedAuthentication(BotFrameworkAuthentication):
    """The SDK's authentication with every failure turned into ``AuthenticationFailed``."""

    def __init__(self, inner: BotFrameworkAuthentication, *, auth_required: bool) -> None:
        self._inner = inner
        self._auth_required = auth_required

    async def authenticate_request(self, activity: Activity, auth_header: str | None) -> AuthenticateRequestResult:
        if not self._auth_required:
            # Anonymous local mode trusts no token and checks none: handing one to the SDK made it
            # fetch Microsoft's OpenID metadata for any token claiming a Microsoft issuer (issue
            # 16, item 5). In this mode nothing leaves the machine; the header is ignored.
            if auth_header:
                bot_logger().info("token_ignored", extra={"outcome": "anonymous_mode_token_ignored"})
            auth_header = None  # the SDK's anonymous path; "" would be read as a bad token
        elif not auth_header:
            raise AuthenticationFailed("missing_token")
        try:
            result = await self._inner.authenticate_request(activity, auth_header)
        except asyncio.CancelledError:
            raise
        except AuthenticationFailed as error:
            bot_logger().info("auth_failed", extra={"outcome": "unauthorized", "reason": str(error)})
            raise
        except Exception as error:  # noqa: BLE001 - every SDK failure here means "not authenticated"
            bot_logger().info("auth_failed", extra={"outcome": "unauthorized", **safe_error_fields(error)})
            raise AuthenticationFailed("invalid_token") from None
        expires = result.claims_identity.claims.get("exp") if auth_header is not None else None
        if auth_header is not None and not isinstance(expires, (int, float)):
            # PyJWT checks "exp" only when present: a token without one would be valid for ever.
            raise AuthenticationFailed("token_without_expiry")
        if expires is not None and expires - time.time() > MAX_TOKEN_LIFETIME_SECONDS:
            # Channel tokens live about an hour; one valid for days is not one the channel issued.
            bot_logger().info("auth_failed", extra={"outcome": "unauthorized", "reason": "token_lifetime_too_long"})
            raise AuthenticationFailed("token_lifetime_too_long")
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str) -> AuthenticateRequestResult:
        raise AuthenticationFailed("streaming_not_supported")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._inner.create_connector_factory(claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        return await self._inner.create_user_token_client(claims_identity)

    def create_bot_framework_client(self):
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        try:
            return await self._inner.authenticate_channel_request(auth_header)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            raise AuthenticationFailed("invalid_token") from None
