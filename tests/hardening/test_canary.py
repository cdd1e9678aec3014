"""A canary planted in every field of every message of a whole conversation (text, names, ids,
card values, channel data, attachments, mentions, headers) appears zero times in the logs, and
zero times in storage once the conversation's state has expired."""

from __future__ import annotations

import io
import json
import logging
import uuid

from botbuilder.core import MemoryStorage
from pythonjsonlogger.json import JsonFormatter

from bot.adapter import silence_sdk_loggers
from bot.storage import ExpiringStorage
from tests.conftest import activity, cards
from tests.http.support import ChannelRecorder

TTL_SECONDS = 600


def planted(canary: str, conversation_id: str, text: str | None = None, **extra) -> dict:
    body = activity(text, conversation_id=conversation_id, tenant_id=f"tenant-{canary}", **extra)
    body["id"] = f"{canary}-{uuid.uuid4()}"
    body["from"] = {"id": f"29:{canary}", "name": f"Name {canary}", "aadObjectId": canary}
    body["recipient"] = {"id": "28:safeguarding-bot", "name": f"Bot {canary}"}
    body["conversation"]["name"] = f"Chat {canary}"
    body["channelData"] = {"tenant": {"id": f"tenant-{canary}"}, "note": canary, "team": {"id": canary}}
    body["replyToId"] = canary
    body["entities"] = [{"type": "clientInfo", "locale": "en-GB", "note": canary}]
    return body


def first_submit(payload: dict) -> dict | None:
    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                return node["data"]
            for value in node.values():
                found = walk(value)
                if found:
                    return found
        elif isinstance(node, list):
            for value in node:
                found = walk(value)
                if found:
                    return found
        return None

    return next((data for card in cards(payload) if (data := walk(card))), None)


async def test_a_canary_in_every_field_never_reaches_logs_or_expired_storage(aiohttp_client, aiohttp_server, make_app, caplog):
    canary = f"CANARY{uuid.uuid4().hex}"
    conversation = f"a:{canary}"
    now = [1_000_000.0]
    memory = MemoryStorage()
    storage = ExpiringStorage(memory, TTL_SECONDS, clock=lambda: now[0])
    channel = ChannelRecorder()
    channel_server = await aiohttp_server(channel.app())
    client = await aiohttp_client(make_app(storage=storage))

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    silence_sdk_loggers()
    try:
        async def post(body: dict, headers: dict | None = None) -> dict:
            response = await client.post("/api/messages", json=body, headers=headers or {})
            return await response.json() if response.content_type == "application/json" else {}

        update = planted(canary, conversation, type="conversationUpdate")
        update["membersAdded"] = [{"id": "28:safeguarding-bot", "name": canary}]
        await post(update)
        for text in (
            f"hello {canary}",
            f"what is CEOP? {canary}",
            f"is child pornography the right term {canary}",
            f"Jane Smith {canary} in year 9 at 12 High Street",
            f"a child is in danger right now {canary}",
        ):
            await post(planted(canary, conversation, text))

        payload = await post(planted(canary, conversation, f"a pupil just told me her stepdad sends her pics {canary}"))
        for _ in range(6):  # walk the disclosure guide by its buttons, canary riding in every click
            data = first_submit(payload)
            if data is None:
                break
            payload = await post(planted(canary, conversation, canary, value={**data, "note": canary}))
        await post(planted(canary, conversation, value={"action": "feedback", "id": canary, "helpful": canary}))
        with_file = planted(canary, conversation, f"see attached {canary}")
        with_file["attachments"] = [{"contentType": "image/png", "contentUrl": f"https://x.invalid/{canary}", "name": f"{canary}.png"}]
        await post(with_file)
        await post(planted(canary, conversation, canary * 200))  # too long
        mention = planted(canary, conversation, f"<at>Bot</at> {canary}")
        mention["entities"] = [{"type": "mention", "mentioned": {"id": "28:safeguarding-bot", "name": canary}, "text": "<at>Bot</at>"}]
        await post(mention)
        delivered = planted(canary, conversation, f"what is CEOP {canary}", expect_replies=False, serviceUrl=str(channel_server.make_url("/")))
        await post(delivered)
        await post(planted(canary, conversation, type="invoke", name=canary, value={"x": canary}))
        await post(planted(canary, conversation, f"hi {canary}"), headers={"Authorization": f"Bearer {canary}"})
        await client.post("/api/messages", data=f'{{"type": "{canary}"'.encode(), headers={"Content-Type": "application/json"})
        edited = planted(canary, conversation, type="messageUpdate", text=f"edited {canary}")
        await post(edited)
    finally:
        root.removeHandler(handler)

    assert channel.received, "one reply went out through a real channel too"
    logged = stream.getvalue() + "\n".join(json.dumps(vars(r), default=str) for r in caplog.records)
    assert len(caplog.records) > 20, "the conversation was logged (ids, outcomes), just never its content"
    # The fake channel's own access log names the conversation in its URL: that is the test
    # double's log, not the bot's (whose requests are all POST /api/messages).
    leaks = [line for line in logged.splitlines() if canary in line and "/v3/conversations/" not in line]
    assert not leaks, leaks[:3]

    stored_before_expiry = json.dumps(memory.memory, default=str).count(canary)
    now[0] += TTL_SECONDS + 1
    storage.purge_expired()
    assert json.dumps(memory.memory, default=str).count(canary) == 0
    print(f"\ncanary: 0 in {len(caplog.records)} log records; {stored_before_expiry} in storage before expiry, 0 after")
