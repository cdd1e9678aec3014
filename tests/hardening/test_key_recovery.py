"""Signing-key recovery (issue 16, item 7): once the identity endpoint answers again, valid
traffic is accepted within a few seconds, and while it is down it is asked at most once per
back-off interval (capped at 5 s), never once per request. A real local identity server that
fails and then recovers; the real HTTP layer and the SDK's JWT checks."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.auth import SigningKeyCache
from tests.http.support import KID, IdentityServer, authenticated_settings, message, stand_in_app

SERVICE_URL = "https://smba.trafficmanager.net/uk/"
# The promise, as a number (not the module's constant, so a larger cap fails here): keys back within
# 5 s of the server answering, plus the time for one fetch and one request on a loaded machine.
CAP_SECONDS = 5.0
RECOVERY_BOUND_SECONDS = CAP_SECONDS + 1.5


@pytest.fixture
async def identity(aiohttp_server):
    server = IdentityServer()
    running = await aiohttp_server(server.app())
    server.base_url = str(running.make_url("")).rstrip("/")
    return server


async def test_valid_traffic_is_accepted_within_seconds_of_the_key_server_coming_back(aiohttp_client, identity):
    identity.mode = "fail"
    client = await aiohttp_client(stand_in_app(authenticated_settings(identity.base_url)))

    async def post() -> int:
        token = identity.token(service_url=SERVICE_URL)
        response = await client.post(
            "/api/messages", json=message("hello", service_url=SERVICE_URL, expect_replies=True),
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status

    # Traffic at 20 requests/s through an outage of at least 8 s, which ends just after a failed
    # fetch: the worst moment, the longest back-off still ahead.
    outage_started = time.monotonic()
    outage_requests = 0
    while True:
        seen = identity.metadata_requests
        assert await post() == 401
        outage_requests += 1
        elapsed = time.monotonic() - outage_started
        if (elapsed >= 8 and identity.metadata_requests > seen) or elapsed > 40:
            break
        await asyncio.sleep(0.05)
    outage = time.monotonic() - outage_started
    fetches_during_outage = identity.metadata_requests

    identity.mode = "ok"
    back_at = time.monotonic()
    status = None
    while time.monotonic() - back_at < 3 * RECOVERY_BOUND_SECONDS:
        status = await post()
        if status == 200:
            break
        await asyncio.sleep(0.1)
    recovery = time.monotonic() - back_at
    print(f"\nkey server: {outage_requests} requests in a {outage:.1f} s outage -> {fetches_during_outage} fetches; "
          f"accepted again {recovery:.1f} s after it came back")
    assert status == 200
    assert recovery <= RECOVERY_BOUND_SECONDS
    assert fetches_during_outage <= outage / 1 + 1, "once per back-off interval, never per request"
    assert fetches_during_outage < outage_requests / 10


async def test_a_long_outage_still_recovers_within_the_cap(identity):
    """An hour of outage on a simulated clock, one request a second: the server is asked at most
    once per 5 s, and the keys are back within 5 s of it answering."""
    now = [0.0]
    cache = SigningKeyCache(f"{identity.base_url}/.well-known/openid-configuration", timeout_seconds=1, clock=lambda: now[0])
    identity.mode = "fail"
    requests = 0
    while True:  # an hour, then on to just after a failed fetch (the worst moment to come back)
        seen = cache.fetch_count
        with pytest.raises(PermissionError):
            await cache.get(KID)
        requests += 1
        now[0] += 1
        if now[0] >= 3600 and cache.fetch_count > seen:
            break
    assert cache.fetch_count <= now[0] / CAP_SECONDS + 5
    identity.mode = "ok"
    back_at = now[0]
    while True:
        try:
            assert (await cache.get(KID)).public_key is not None
            break
        except PermissionError:
            now[0] += 1
    print(f"\nsimulated {now[0] / 3600:.2f} h outage: {cache.fetch_count} fetches for {requests} requests; "
          f"recovered {now[0] - back_at:.0f} s after")
    assert now[0] - back_at <= CAP_SECONDS
