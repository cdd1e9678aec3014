"""Every way a request to /api/messages can be wrong gets its own clear status and a JSON body,
never a traceback. Run against the real HTTP layer and adapter, with a stand-in bot."""

from __future__ import annotations

import json

import pytest
from botbuilder.core import MemoryStorage

from bot.settings import Settings
from bot.storage import ExpiringStorage
from tests.http.support import ChannelRecorder, StandInBot, message, stand_in_app

TRACEBACK_MARKERS = ("Traceback", 'File "', "Error:", "line ")


def assert_clean(body: str) -> None:
    for marker in TRACEBACK_MARKERS:
        assert marker not in body


@pytest.fixture
async def client(aiohttp_client):
    return await aiohttp_client(stand_in_app())


async def test_expect_replies_returns_the_replies_in_the_response(client):
    response = await client.post("/api/messages", json=message("hello", expect_replies=True))
    assert response.status == 200
    payload = await response.json()
    assert [a["text"] for a in payload["activities"]] == ["received 5"]


@pytest.mark.parametrize(
    "headers, data",
    [
        ({}, b'{"type": "message"}'),
        ({"Content-Type": "text/plain"}, b'{"type": "message"}'),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"type=message"),
        ({"Content-Type": "application/xml"}, b"<activity/>"),
    ],
)
async def test_non_json_content_type_is_415(client, headers, data):
    response = await client.post("/api/messages", data=data, headers=headers)
    assert response.status == 415
    assert "Content-Type" in (await response.json())["error"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2, 3]",
        b'"a string"',
        b"null",
        b"{}",
        b'{"type": ""}',
        b'{"type": 42, "conversation": {"id": "c"}}',
        b'{"type": "message"}',  # no conversation
        b'{"type": "message", "conversation": "c"}',
        b'{"type": "message", "conversation": {"id": 7}}',
        b'{"type": "message", "conversation": {"id": "c"}, "serviceUrl": ["x"]}',
        b'{"type": "message", "conversation": {"id": "c"}, "timestamp": "yesterday"}',
        b"\xff\xfe not utf-8",
        b"[" * 100_000,
    ],
)
async def test_a_body_that_is_not_an_activity_is_400(client, body):
    response = await client.post("/api/messages", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert_clean(await response.text())


def shaped(**changes):
    body = message("hello", expect_replies=True)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    "body",
    [
        shaped(channelId=None),
        shaped(channelId=""),
        shaped(**{"from": None}),
        shaped(recipient="28:bot"),
        shaped(channelData="tenant-test"),
        shaped(entities=[{"type": "mention", "mentioned": {}, "text": "<at>Bot</at>"}]),
        shaped(entities=[{"text": "no type"}]),
        shaped(entities={"type": "mention"}),
        shaped(attachments=[{"contentType": 7}]),
        shaped(membersAdded=[{"id": 5}]),
        shaped(text=["hello"]),
    ],
)
async def test_activity_fields_the_sdk_would_crash_on_are_400(aiohttp_client, body):
    """Each of these crashed a turn in the SDK (found by the fuzz test); now refused up front."""
    bot = StandInBot()
    client = await aiohttp_client(stand_in_app(bot=bot))
    response = await client.post("/api/messages", json=body)
    assert response.status == 400
    assert bot.turns == 0


async def test_an_invoke_the_bot_does_not_handle_is_501_without_running_a_turn(aiohttp_client):
    bot = StandInBot()
    client = await aiohttp_client(stand_in_app(bot=bot))
    response = await client.post("/api/messages", json=shaped(type="invoke", name="task/fetch", value=""))
    assert response.status == 501
    assert (await response.json())["error"] == "this bot handles no such invoke"


async def test_body_past_the_limit_is_413_and_the_limit_is_configurable(aiohttp_client):
    small = await aiohttp_client(stand_in_app(Settings.from_env({"BOT_MAX_BODY_BYTES": "2048"})))
    padded = message("x" * 3000, expect_replies=True)
    assert (await small.post("/api/messages", json=padded)).status == 413
    default = await aiohttp_client(stand_in_app())
    assert (await default.post("/api/messages", json=padded)).status == 200


async def test_body_past_the_limit_without_content_length_is_413(client):
    async def chunks():
        for _ in range(300):
            yield b" " * 1024

    response = await client.post("/api/messages", data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status == 413


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405_with_json(client, method):
    response = await client.request(method, "/api/messages")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert "error" in await response.json()


async def test_unknown_path_is_404_json(client):
    response = await client.get("/api/nothing-here")
    assert response.status == 404
    assert "error" in await response.json()


async def test_missing_or_disallowed_service_url_is_400_without_running_the_turn(aiohttp_client):
    bot = StandInBot()
    client = await aiohttp_client(stand_in_app(bot=bot))
    no_url = message()
    del no_url["serviceUrl"]
    for body in (no_url, message(service_url="ftp://127.0.0.1/"), message(service_url="http://10.0.0.5/")):
        response = await client.post("/api/messages", json=body)
        assert response.status == 400
    assert bot.turns == 0


async def test_a_turn_that_fails_answers_with_the_safe_message_not_a_traceback(client):
    response = await client.post("/api/messages", json=message("explode", expect_replies=True))
    assert response.status == 200
    payload = await response.json()
    texts = [a["text"] for a in payload["activities"]]
    assert texts == [
        "Sorry, something went wrong. If a child is in immediate danger call 999 and tell your DSL."
    ]


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "alive"


class BrokenStore(MemoryStorage):
    async def read(self, keys):
        raise ConnectionError("store unreachable")


async def test_readyz_is_503_when_storage_fails(aiohttp_client):
    ok = await aiohttp_client(stand_in_app())
    assert (await ok.get("/readyz")).status == 200
    broken = await aiohttp_client(stand_in_app(storage=ExpiringStorage(BrokenStore(), 60)))
    response = await broken.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["storage"] is False


async def test_a_normal_delivery_is_201_and_the_reply_reaches_the_service_url(aiohttp_client, aiohttp_server):
    channel = ChannelRecorder()
    server = await aiohttp_server(channel.app())
    client = await aiohttp_client(stand_in_app())
    body = message("hi", service_url=str(server.make_url("/")))
    response = await client.post("/api/messages", json=body)
    assert response.status == 201
    assert [r["text"] for r in channel.received] == ["received 2"]
    # A reply to the user's message: the Connector's reply-to-activity route.
    assert channel.received[0]["path"] == f"/v3/conversations/{body['conversation']['id']}/activities/{body['id']}"
    assert channel.authorizations == [None]  # anonymous local mode sends no token


async def test_response_bodies_are_json_objects(client):
    response = await client.post("/api/messages", data=b"nope", headers={"Content-Type": "application/json"})
    assert isinstance(json.loads(await response.text()), dict)
