"""The auth matrix: real RS256 tokens from a local identity server (OpenID metadata + JWKS), each
variant against the real HTTP layer and the SDK's own JWT validation, each with the status a
channel or an attacker should get. A hung or failing key server never stalls other traffic.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.auth import SigningKeyCache
from botframework.connector.auth import JwtTokenExtractor
from tests.http.support import (
    APP_ID,
    KID,
    IdentityServer,
    authenticated_settings,
    message,
    stand_in_app,
    unsigned_token,
)

SERVICE_URL = "https://smba.trafficmanager.net/uk/"


@pytest.fixture
async def identity(aiohttp_server):
    server = IdentityServer()
    running = await aiohttp_server(server.app())
    server.base_url = str(running.make_url("")).rstrip("/")
    return server


async def app_client(aiohttp_client, identity, **overrides):
    settings = authenticated_settings(identity.base_url, **overrides)
    return await aiohttp_client(stand_in_app(settings))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def body(**extra):
    return message("hello", service_url=SERVICE_URL, expect_replies=True, **extra)


# (name, how to make the Authorization header from the identity server, expected status)
MATRIX = [
    ("valid", lambda s: bearer(s.token(service_url=SERVICE_URL)), 200),
    ("expired", lambda s: bearer(s.token(service_url=SERVICE_URL, lifetime=-3600)), 401),
    ("not_yet_valid", lambda s: bearer(s.token(service_url=SERVICE_URL, not_before=3600)), 401),
    ("bad_signature", lambda s: bearer(s.token(service_url=SERVICE_URL, sign_with=s.other_key)), 401),
    ("wrong_audience", lambda s: bearer(s.token(service_url=SERVICE_URL, audience="another-bot")), 401),
    ("wrong_issuer", lambda s: bearer(s.token(service_url=SERVICE_URL, issuer="https://evil.example")), 401),
    ("unknown_kid", lambda s: bearer(s.token(service_url=SERVICE_URL, kid="rotated-away")), 401),
    ("no_kid", lambda s: bearer(s.token(service_url=SERVICE_URL, kid=None)), 401),
    (
        "alg_none",
        lambda s: bearer(unsigned_token({"iss": "https://identity.test.local", "aud": APP_ID, "serviceurl": SERVICE_URL})),
        401,
    ),
    ("hs256", lambda s: bearer(s.token(service_url=SERVICE_URL, algorithm="HS256")), 401),
    ("missing_header", lambda s: {}, 401),
    ("bearer_garbage", lambda s: {"Authorization": "Bearer garbage"}, 401),
    ("bearer_empty", lambda s: {"Authorization": "Bearer "}, 401),
    ("basic_scheme", lambda s: {"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ("three_part_header", lambda s: {"Authorization": f"Bearer {s.token(service_url=SERVICE_URL)} extra"}, 401),
    ("service_url_mismatch", lambda s: bearer(s.token(service_url="https://attacker.example/")), 401),
    ("service_url_claim_missing", lambda s: bearer(s.token(service_url=SERVICE_URL, drop=("serviceurl",))), 401),
    ("no_expiry", lambda s: bearer(s.token(service_url=SERVICE_URL, drop=("exp",))), 401),
    ("no_audience", lambda s: bearer(s.token(service_url=SERVICE_URL, drop=("aud",))), 401),
]


@pytest.mark.parametrize("name, header, expected", MATRIX, ids=[row[0] for row in MATRIX])
async def test_token_variant_gets_the_right_status(aiohttp_client, identity, name, header, expected):
    client = await app_client(aiohttp_client, identity)
    response = await client.post("/api/messages", json=body(), headers=header(identity))
    text = await response.text()
    assert response.status == expected, text
    assert "Traceback" not in text
    if expected == 200:
        assert (await response.json())["activities"][0]["text"] == "received 5"
    else:
        assert (await response.json()) == {"error": "unauthorized"}


async def test_foreign_tenant_with_a_valid_token_is_403(aiohttp_client, identity):
    client = await app_client(aiohttp_client, identity)
    foreign = body(channelData={"tenant": {"id": "someone-elses-tenant"}})
    foreign["conversation"]["tenantId"] = "someone-elses-tenant"
    response = await client.post("/api/messages", json=foreign, headers=bearer(identity.token(service_url=SERVICE_URL)))
    assert response.status == 403
    assert (await response.json())["error"] == "tenant not allowed"


async def test_non_teams_channel_in_production_is_403(aiohttp_client, identity):
    identity.endorsements = ["msteams", "webchat"]  # a genuine webchat token: refused by policy
    client = await app_client(aiohttp_client, identity, environment="production")
    response = await client.post(
        "/api/messages", json=body(channelId="webchat"), headers=bearer(identity.token(service_url=SERVICE_URL))
    )
    assert response.status == 403
    assert (await response.json())["error"] == "channel not allowed"
    teams = await client.post("/api/messages", json=body(), headers=bearer(identity.token(service_url=SERVICE_URL)))
    assert teams.status == 200


async def test_channel_the_signing_key_does_not_endorse_is_401(aiohttp_client, identity):
    """The key is endorsed for msteams only; a webchat activity signed with it is refused even
    where webchat is an allowed channel."""
    client = await app_client(aiohttp_client, identity, allowed_channels=frozenset({"msteams", "webchat"}))
    response = await client.post(
        "/api/messages", json=body(channelId="webchat"), headers=bearer(identity.token(service_url=SERVICE_URL))
    )
    assert response.status == 401


async def test_unauthenticated_requests_learn_nothing_about_allow_lists(aiohttp_client, identity):
    client = await app_client(aiohttp_client, identity, environment="production")
    response = await client.post("/api/messages", json=body(channelId="webchat"))
    assert response.status == 401


async def measure_healthz_while(client, pending: asyncio.Task, samples: int = 20) -> list[float]:
    """Latencies of /healthz taken while ``pending`` (a request stuck on the key server) runs."""
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        response = await client.get("/healthz")
        latencies.append(time.perf_counter() - started)
        assert response.status == 200
        await asyncio.sleep(0.01)
    assert not pending.done(), "the stuck request should still be waiting on the key server"
    return latencies


async def test_hung_key_server_never_stalls_other_traffic_and_the_token_gets_401(aiohttp_client, identity):
    identity.mode = "hang"
    client = await app_client(aiohttp_client, identity)
    stuck = asyncio.create_task(
        client.post("/api/messages", json=body(), headers=bearer(identity.token(service_url=SERVICE_URL)))
    )
    latencies = await measure_healthz_while(client, stuck)
    response = await stuck
    assert response.status == 401
    print(f"\n/healthz during a hung key server: max {max(latencies) * 1000:.1f} ms over {len(latencies)} calls")


async def test_failing_key_server_gets_401_and_is_not_asked_again_on_every_request(aiohttp_client, identity):
    identity.mode = "fail"
    client = await app_client(aiohttp_client, identity)
    statuses = []
    for _ in range(5):
        response = await client.post("/api/messages", json=body(), headers=bearer(identity.token(service_url=SERVICE_URL)))
        statuses.append(response.status)
    assert statuses == [401] * 5
    assert identity.metadata_requests == 1, "a failed fetch backs off instead of being retried per request"


async def test_concurrent_requests_share_one_key_fetch(aiohttp_client, identity):
    client = await app_client(aiohttp_client, identity)
    responses = await asyncio.gather(
        *[
            client.post("/api/messages", json=body(), headers=bearer(identity.token(service_url=SERVICE_URL)))
            for _ in range(10)
        ]
    )
    assert [r.status for r in responses] == [200] * 10
    assert identity.metadata_requests == 1


async def test_the_sdk_uses_our_signing_key_cache(aiohttp_client, identity):
    """The SDK's own metadata lookup resolves to the async cache, not its blocking fetcher."""
    await app_client(aiohttp_client, identity)
    url = f"{identity.base_url}/.well-known/openid-configuration"
    assert isinstance(JwtTokenExtractor.get_open_id_metadata(url), SigningKeyCache)


async def test_stale_keys_are_served_while_the_key_server_is_down(identity):
    now = [0.0]
    cache = SigningKeyCache(f"{identity.base_url}/.well-known/openid-configuration", timeout_seconds=1, clock=lambda: now[0])
    assert (await cache.get(KID)).public_key is not None
    identity.mode = "fail"
    now[0] += 2 * 24 * 3600  # keys are two days old: a background refresh starts and fails
    assert (await cache.get(KID)).public_key is not None
    await asyncio.sleep(0.05)
    assert (await cache.get(KID)).public_key is not None


async def test_service_url_outside_the_host_allow_list_is_refused_even_with_a_valid_token(aiohttp_client, identity):
    """A genuine token for an unexpected serviceUrl host: no reply goes there."""
    client = await app_client(aiohttp_client, identity, allowed_service_url_hosts=frozenset({"smba.trafficmanager.net"}))
    elsewhere = "https://replies.attacker.example/"
    body_elsewhere = message("hello", service_url=elsewhere)
    response = await client.post("/api/messages", json=body_elsewhere, headers=bearer(identity.token(service_url=elsewhere)))
    assert response.status == 400
    assert (await response.json())["error"] == "serviceUrl missing or not allowed"


async def test_signing_keys_are_fetched_at_start_up_not_on_the_first_request(aiohttp_client, identity):
    await app_client(aiohttp_client, identity)
    for _ in range(50):
        if identity.metadata_requests:
            break
        await asyncio.sleep(0.01)
    assert identity.metadata_requests == 1
