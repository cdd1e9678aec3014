"""A lone UTF-16 surrogate (``"\\ud800"``) in any string of an activity (issue 16, item 3): 401
without a token, 400 with a valid one (or in anonymous mode), never a 500, and the turn never runs
(no reply goes out). Escaped in JSON and as raw UTF-8 bytes, which ``json.loads`` also accepts."""

from __future__ import annotations

import json
import logging

import pytest

from tests.http.support import IdentityServer, StandInBot, authenticated_settings, message, stand_in_app

SERVICE_URL = "https://smba.trafficmanager.net/uk/"
LONE = "\ud800"


def plant(body: dict, where: str) -> dict:
    if where == "conversation.id":
        body["conversation"]["id"] += LONE
    elif where == "id":
        body["id"] += LONE
    elif where == "channelData.tenant.id":
        body["channelData"]["tenant"]["id"] += LONE
    elif where == "conversation.tenantId":
        body["conversation"]["tenantId"] += LONE
    elif where == "from.id":
        body["from"]["id"] += LONE
    elif where == "text":
        body["text"] += LONE
    elif where == "replyToId":
        body["replyToId"] = LONE
    elif where == "channelData.key":
        body["channelData"][LONE] = 1
    return body


FIELDS = ["conversation.id", "id", "channelData.tenant.id", "conversation.tenantId", "from.id", "text", "replyToId", "channelData.key"]


def encodings(body: dict) -> dict[str, bytes]:
    return {
        "escaped": json.dumps(body).encode(),
        "utf8_bytes": json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    }


@pytest.fixture
async def identity(aiohttp_server):
    server = IdentityServer()
    running = await aiohttp_server(server.app())
    server.base_url = str(running.make_url("")).rstrip("/")
    return server


def no_errors(caplog) -> list:
    return [(r.getMessage(), getattr(r, "error_type", "")) for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("where", FIELDS)
@pytest.mark.parametrize("encoding", ["escaped", "utf8_bytes"])
async def test_auth_mode_401_without_a_token_400_with_one(aiohttp_client, identity, caplog, where, encoding):
    caplog.set_level(logging.INFO)
    bot = StandInBot()
    client = await aiohttp_client(stand_in_app(authenticated_settings(identity.base_url), bot=bot))
    data = encodings(plant(message("hello", service_url=SERVICE_URL, expect_replies=True), where))[encoding]
    headers = {"Content-Type": "application/json"}

    anonymous = await client.post("/api/messages", data=data, headers=headers)
    assert anonymous.status == 401, await anonymous.text()

    token = {"Authorization": f"Bearer {identity.token(service_url=SERVICE_URL)}"}
    signed = await client.post("/api/messages", data=data, headers={**headers, **token})
    assert signed.status == 400, await signed.text()
    assert (await signed.json()) == {"error": "activity contains invalid Unicode (a lone surrogate)"}
    assert bot.turns == 0
    assert not no_errors(caplog)


@pytest.mark.parametrize("where", FIELDS)
async def test_anonymous_mode_400_and_no_reply_sent(aiohttp_client, channel, caplog, where):
    caplog.set_level(logging.INFO)
    bot = StandInBot()
    client = await aiohttp_client(stand_in_app(bot=bot))
    data = encodings(plant(message("hello", service_url=channel.url), where))["escaped"]
    response = await client.post("/api/messages", data=data, headers={"Content-Type": "application/json"})
    assert response.status == 400, await response.text()
    assert channel.received == [] and bot.turns == 0
    assert not no_errors(caplog)


async def test_a_valid_astral_character_is_still_fine(aiohttp_client):
    client = await aiohttp_client(stand_in_app())
    body = message("hello 🧒", expect_replies=True)
    body["conversation"]["id"] += "🧒"
    response = await client.post("/api/messages", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    assert response.status == 200
