"""Issue 16, item 10 (the smaller things): /feedback needs a token when the bot has credentials,
and a bearer token valid for longer than a channel would issue is refused. (The Server header:
tests/http/test_protocol_errors.py; plain JSON state: tests/storage/test_plain_state.py.)"""

from __future__ import annotations

import pytest

from tests.http.support import IdentityServer, authenticated_settings, message, stand_in_app

SERVICE_URL = "https://smba.trafficmanager.net/uk/"


class Counter:
    helpful = {"ceop": 2}
    not_helpful = {"ceop": 1}


class BotWithFeedback:
    feedback = Counter()


@pytest.fixture
async def identity(aiohttp_server):
    server = IdentityServer()
    running = await aiohttp_server(server.app())
    server.base_url = str(running.make_url("")).rstrip("/")
    return server


async def test_feedback_with_credentials_needs_the_configured_token(aiohttp_client, identity):
    settings = authenticated_settings(identity.base_url, feedback_token="s3cret-feedback-token")
    client = await aiohttp_client(stand_in_app(settings, bot=BotWithFeedback()))
    assert (await client.get("/feedback")).status == 401
    assert (await client.get("/feedback", headers={"Authorization": "Bearer wrong"})).status == 401
    token = f"Bearer {identity.token(service_url=SERVICE_URL)}"  # a channel token is not it either
    assert (await client.get("/feedback", headers={"Authorization": token})).status == 401
    allowed = await client.get("/feedback", headers={"Authorization": "Bearer s3cret-feedback-token"})
    assert allowed.status == 200
    assert await allowed.json() == {"ceop": {"helpful": 2, "not_helpful": 1}}


async def test_feedback_with_credentials_and_no_token_is_not_served(aiohttp_client, identity):
    client = await aiohttp_client(stand_in_app(authenticated_settings(identity.base_url), bot=BotWithFeedback()))
    assert (await client.get("/feedback")).status == 404


async def test_feedback_in_anonymous_local_mode_is_open(aiohttp_client):
    client = await aiohttp_client(stand_in_app(bot=BotWithFeedback()))
    assert (await client.get("/feedback")).status == 200


@pytest.mark.parametrize("lifetime, expected", [(3600, 200), (2 * 3600 - 60, 200), (3 * 3600, 401), (30 * 24 * 3600, 401)])
async def test_a_token_valid_for_too_long_is_refused(aiohttp_client, identity, lifetime, expected):
    client = await aiohttp_client(stand_in_app(authenticated_settings(identity.base_url)))
    token = identity.token(service_url=SERVICE_URL, lifetime=lifetime)
    response = await client.post(
        "/api/messages", json=message("hello", service_url=SERVICE_URL, expect_replies=True),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == expected
