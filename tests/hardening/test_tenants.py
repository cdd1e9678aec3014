"""The tenant check (issue 16, item 6), with genuinely signed tokens: the conversation.tenantId
Teams sends counts when channelData has no tenant, tenant GUIDs compare case-insensitively, and an
activity whose two tenant fields disagree is refused whichever of them is allowed."""

from __future__ import annotations

import pytest

from tests.http.support import IdentityServer, StandInBot, authenticated_settings, message, stand_in_app

SERVICE_URL = "https://smba.trafficmanager.net/uk/"
OURS = "9f3c2a1e-5b7d-4c8e-a2f1-0d6b4e8c7a90"
THEIRS = "11111111-aaaa-bbbb-cccc-222222222222"


@pytest.fixture
async def identity(aiohttp_server):
    server = IdentityServer()
    running = await aiohttp_server(server.app())
    server.base_url = str(running.make_url("")).rstrip("/")
    return server


def activity(channel_data_tenant: str | None, conversation_tenant: str | None) -> dict:
    body = message("hello", service_url=SERVICE_URL, expect_replies=True)
    body["channelData"] = {"tenant": {"id": channel_data_tenant}} if channel_data_tenant else {}
    body["conversation"].pop("tenantId", None)
    if conversation_tenant:
        body["conversation"]["tenantId"] = conversation_tenant
    return body


CASES = [
    ("conversation_only", None, OURS, OURS, 200),
    ("channel_data_only", OURS, None, OURS, 200),
    ("both_agree", OURS, OURS, OURS, 200),
    ("upper_case_activity", OURS.upper(), OURS.upper(), OURS, 200),
    ("upper_case_allow_list", OURS, None, OURS.upper(), 200),
    ("mixed_case_both", OURS.upper(), OURS, OURS, 200),
    ("channel_data_ours_conversation_theirs", OURS, THEIRS, OURS, 403),
    ("channel_data_theirs_conversation_ours", THEIRS, OURS, OURS, 403),
    ("conversation_theirs", None, THEIRS, OURS, 403),
    ("no_tenant_at_all", None, None, OURS, 403),
]


@pytest.mark.parametrize("name, channel_data, conversation, allowed, expected", CASES, ids=[c[0] for c in CASES])
async def test_tenant_check(aiohttp_client, identity, name, channel_data, conversation, allowed, expected):
    bot = StandInBot()
    settings = authenticated_settings(identity.base_url, allowed_tenants=frozenset({allowed}))
    client = await aiohttp_client(stand_in_app(settings, bot=bot))
    token = identity.token(service_url=SERVICE_URL)
    response = await client.post(
        "/api/messages", json=activity(channel_data, conversation), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == expected, await response.text()
    assert bot.turns == (1 if expected == 200 else 0)


async def test_disagreeing_tenants_are_refused_even_without_an_allow_list(aiohttp_client, identity):
    settings = authenticated_settings(identity.base_url, allowed_tenants=frozenset())
    client = await aiohttp_client(stand_in_app(settings))
    token = identity.token(service_url=SERVICE_URL)
    response = await client.post("/api/messages", json=activity(OURS, THEIRS), headers={"Authorization": f"Bearer {token}"})
    assert response.status == 403
    assert (await response.json()) == {"error": "tenant not allowed"}
