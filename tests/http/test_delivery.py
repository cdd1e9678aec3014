"""Delivery semantics of the real bot over HTTP: a repeated delivery is answered once, oversized
messages get a polite reply (or a 413), and an edited or deleted message purges what the
conversation stored."""

from __future__ import annotations

import pytest
from botbuilder.core import MemoryStorage

from bot.dedupe import RecentActivities
from bot.outbound import OutboundLimits
from bot.settings import Settings
from bot.storage import ExpiringStorage
from tests.conftest import activity, reply_texts, send
from tests.http.support import StandInBot, message, stand_in_app


async def test_a_repeated_delivery_is_answered_once(aiohttp_client, make_app, channel):
    client = await aiohttp_client(make_app())
    body = activity("what is CEOP", expect_replies=False, serviceUrl=channel.url)
    first = await client.post("/api/messages", json=body)
    delivered = len(channel.received)
    second = await client.post("/api/messages", json=body)
    assert (first.status, second.status) == (201, 200)
    assert delivered >= 1
    assert len(channel.received) == delivered, "the retry produced no second set of replies"


async def test_a_repeated_expect_replies_delivery_returns_no_second_answer(aiohttp_client, make_app):
    client = await aiohttp_client(make_app())
    body = activity("what is CEOP")
    assert reply_texts(await send(client, body))
    assert (await send(client, body)) == {"activities": []}
    fresh = dict(body, id="another-activity-id")
    assert reply_texts(await send(client, fresh)), "a different activity id is a new message"


async def test_a_delivery_that_failed_is_processed_when_the_channel_retries(aiohttp_client, channel):
    bot = StandInBot()
    client = await aiohttp_client(stand_in_app(bot=bot, outbound_limits=OutboundLimits(max_retries=0)))
    body = message("hi", service_url=channel.url)
    channel.throttle_first = 1
    assert (await client.post("/api/messages", json=body)).status == 502
    assert (await client.post("/api/messages", json=body)).status == 201
    assert [r["text"] for r in channel.received] == ["received 2"]
    assert bot.turns == 2


def test_recent_activities_is_bounded_and_expires():
    now = [0.0]
    recent = RecentActivities(ttl_seconds=10, max_entries=3, clock=lambda: now[0])
    assert recent.claim("c", "1") and not recent.claim("c", "1")
    assert recent.claim("other-conversation", "1"), "ids are per conversation"
    for i in range(2, 6):
        recent.claim("c", str(i))
    assert len(recent) == 3
    assert recent.claim("c", "1"), "the oldest fell out of the bounded memory"
    now[0] = 11
    assert recent.claim("c", "5"), "remembered deliveries expire"
    assert recent.claim("c", None) and recent.claim("c", None), "no id: cannot be recognised, always new"


async def test_message_at_the_limit_is_answered_and_past_it_gets_a_polite_reply(aiohttp_client, make_app):
    settings = Settings.from_env({"BOT_MAX_MESSAGE_CHARS": "200"})
    client = await aiohttp_client(make_app(settings))
    at_limit = "\n".join(reply_texts(await send(client, activity("what is ceop " + "x" * 187))))
    past_limit = "\n".join(reply_texts(await send(client, activity("what is ceop " + "x" * 188))))
    assert "shorter" not in at_limit
    assert "shorter" in past_limit and "999" in past_limit


async def test_a_million_character_message_is_refused_before_any_processing(aiohttp_client, make_app):
    client = await aiohttp_client(make_app())
    response = await client.post("/api/messages", json=activity("a" * 1_000_000))
    assert response.status == 413


DISCLOSURE = "a pupil just told me her stepdad sends her pics"


def stored_keys(memory: MemoryStorage, conversation_id: str) -> list[str]:
    return [key for key in memory.memory if conversation_id in key]


@pytest.mark.parametrize(
    "kind, event",
    [("messageUpdate", "editMessage"), ("messageDelete", "softDeleteMessage"), ("messageDelete", None)],
)
async def test_edit_or_delete_purges_what_the_conversation_stored(aiohttp_client, make_app, kind, event):
    memory = MemoryStorage()
    client = await aiohttp_client(make_app(storage=ExpiringStorage(memory, 3600)))
    conversation = "a:conv-purge"
    await send(client, activity(DISCLOSURE, conversation_id=conversation))
    assert stored_keys(memory, conversation), "the guide keeps its step in conversation state"

    change = activity(conversation_id=conversation, type=kind)
    if event:
        change["channelData"] = {"tenant": {"id": "tenant-test"}, "eventType": event}
    payload = await send(client, change)
    assert payload == {"activities": []}, "the bot says nothing about an edit or a deletion"
    assert stored_keys(memory, conversation) == []


async def test_other_conversations_are_untouched_by_a_deletion(aiohttp_client, make_app):
    memory = MemoryStorage()
    client = await aiohttp_client(make_app(storage=ExpiringStorage(memory, 3600)))
    await send(client, activity(DISCLOSURE, conversation_id="a:keep"))
    await send(client, activity(DISCLOSURE, conversation_id="a:drop"))
    await send(client, activity(conversation_id="a:drop", type="messageDelete"))
    assert stored_keys(memory, "a:keep") and not stored_keys(memory, "a:drop")


async def test_another_tenant_gets_a_polite_refusal_and_nothing_is_stored(aiohttp_client, make_app, channel):
    storage = ExpiringStorage(MemoryStorage(), ttl_seconds=3600)
    settings = Settings.from_env({"BOT_ALLOWED_TENANTS": "our-tenant"})
    client = await aiohttp_client(make_app(settings, storage=storage))
    body = activity("what is CEOP", expect_replies=False, serviceUrl=channel.url, tenant_id="someone-elses")
    response = await client.post("/api/messages", json=body)
    assert response.status == 403
    [refusal] = [r for r in channel.received if r.get("type") == "message"]
    assert "only available to the organisation" in refusal["text"]
    assert "999" in refusal["text"]
    assert storage.inner.memory == {}

    ours = activity("what is CEOP", expect_replies=False, serviceUrl=channel.url, tenant_id="our-tenant")
    assert (await client.post("/api/messages", json=ours)).status == 201
