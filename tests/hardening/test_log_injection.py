"""Caller-chosen strings never reach a log (issue 16, item 2): the activity type, channel id and
every other field are logged only as values the bot knows, else "other" — before authentication
(401), after it, and on a turn that fails. Real app, real activities, anonymous and auth modes."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from tests.http.support import IdentityServer, authenticated_settings, message, stand_in_app

INJECTED = [
    "X" * 66_000,
    'message\n{"levelname": "CRITICAL", "message": "forged"}',
    "message\r\nINFO forged line",
    "\u202emessage",
    "message ",
    "MESSAGE",
    "\x00message",
]


def leaked(records, marker: str) -> list[str]:
    texts = [json.dumps(vars(r), default=str) for r in records]
    return [t[:200] for t in texts if marker in t or len(t) > 4000]


@pytest.fixture
async def identity(aiohttp_server):
    server = IdentityServer()
    running = await aiohttp_server(server.app())
    server.base_url = str(running.make_url("")).rstrip("/")
    return server


@pytest.mark.parametrize("index", range(len(INJECTED)))
async def test_an_unauthenticated_activity_type_is_logged_only_as_a_known_value(aiohttp_client, identity, caplog, index):
    caplog.set_level(logging.DEBUG)
    marker = f"INJ{uuid.uuid4().hex}"
    client = await aiohttp_client(stand_in_app(authenticated_settings(identity.base_url)))
    body = message("hello", type=INJECTED[index] + marker, channelId=f"msteams{marker}")
    response = await client.post("/api/messages", json=body)
    assert response.status == 401
    activity_records = [r for r in caplog.records if r.getMessage() == "activity"]
    assert [r.activity_type for r in activity_records] == ["other"]
    assert [r.channel for r in activity_records] == ["other"]
    assert not leaked(caplog.records, marker)


@pytest.mark.parametrize("index", range(len(INJECTED)))
async def test_an_anonymous_activity_type_is_logged_only_as_a_known_value(aiohttp_client, caplog, index):
    caplog.set_level(logging.DEBUG)
    marker = f"INJ{uuid.uuid4().hex}"
    client = await aiohttp_client(stand_in_app())
    response = await client.post("/api/messages", json=message("hello", expect_replies=True, type=INJECTED[index] + marker))
    assert response.status < 500
    assert [r.activity_type for r in caplog.records if r.getMessage() == "activity"] == ["other"]
    assert not leaked(caplog.records, marker)


async def test_known_types_are_still_logged_by_name(aiohttp_client, caplog):
    caplog.set_level(logging.INFO)
    client = await aiohttp_client(stand_in_app())
    for kind in ("message", "conversationUpdate", "messageReaction", "typing"):
        await client.post("/api/messages", json=message("hello", expect_replies=True, type=kind))
    logged = [r.activity_type for r in caplog.records if r.getMessage() == "activity"]
    assert logged == ["message", "conversationUpdate", "messageReaction", "typing"]


async def test_a_failing_turn_logs_the_type_as_a_known_value(aiohttp_client, caplog):
    """The turn-error handler logs the activity type too."""
    caplog.set_level(logging.INFO)
    client = await aiohttp_client(stand_in_app())
    await client.post("/api/messages", json=message("explode", expect_replies=True))
    errors = [r for r in caplog.records if r.getMessage() == "turn_error"]
    assert [r.activity_type for r in errors] == ["message"]
