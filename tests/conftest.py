"""Shared fixtures: the real knowledge, the real app through aiohttp's test client, and
Bot Framework activities shaped like the ones Teams sends."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app import create_app
from bot.settings import Settings
from knowledge.loader import Knowledge, load_knowledge

UK = ZoneInfo("Europe/London")
# A Wednesday mid-morning that is not a bank holiday: office hours everywhere.
OFFICE_HOURS = datetime(2026, 11, 25, 10, 30, tzinfo=UK)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One trained FAQ classifier for the whole run, shared with the bot processes the tests
    start (they inherit BOT_MODEL_CACHE_DIR), so each loads it instead of training for seconds;
    the user's own cache directory is left alone."""
    cache = tmp_path_factory.mktemp("model-cache")
    before = os.environ.get("BOT_MODEL_CACHE_DIR")
    os.environ["BOT_MODEL_CACHE_DIR"] = str(cache)
    yield cache
    if before is None:
        os.environ.pop("BOT_MODEL_CACHE_DIR", None)
    else:
        os.environ["BOT_MODEL_CACHE_DIR"] = before


@pytest.fixture(scope="session", autouse=True)
def knowledge(model_cache: Path) -> Knowledge:
    return load_knowledge(clock=lambda: OFFICE_HOURS, model_cache_dir=model_cache)


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env({})


@pytest.fixture
def make_app(knowledge):
    def factory(settings: Settings | None = None, **kwargs):
        return create_app(settings or Settings.from_env({}), knowledge, **kwargs)

    return factory


@pytest.fixture
async def channel(aiohttp_server):
    """Teams' side for normal delivery: replies are POSTed here, as the Bot Connector receives them."""
    from tests.http.support import ChannelRecorder

    recorder = ChannelRecorder()
    server = await aiohttp_server(recorder.app(), host="127.0.0.1")
    recorder.url = str(server.make_url("/"))
    return recorder


@pytest.fixture
async def client(aiohttp_client, make_app):
    return await aiohttp_client(make_app())


def activity(
    text: str | None = None,
    *,
    conversation_id: str | None = None,
    value: Any = None,
    channel_id: str = "msteams",
    conversation_type: str = "personal",
    expect_replies: bool = True,
    tenant_id: str = "tenant-test",
    **extra: Any,
) -> dict:
    """A Teams-shaped message activity (as Teams posts it), replies returned in the response."""
    body: dict[str, Any] = {
        "type": "message",
        "id": str(uuid.uuid4()),
        "timestamp": "2026-11-25T10:30:00.000Z",
        "channelId": channel_id,
        "serviceUrl": "http://127.0.0.1:9/",
        "from": {"id": "29:user-1", "name": "Practitioner", "aadObjectId": "00000000-0000-0000-0000-000000000001"},
        "recipient": {"id": "28:safeguarding-bot", "name": "Safeguarding bot"},
        "conversation": {
            "id": conversation_id or f"a:conv-{uuid.uuid4()}",
            "conversationType": conversation_type,
            "tenantId": tenant_id,
        },
        "channelData": {"tenant": {"id": tenant_id}},
        "locale": "en-GB",
    }
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    if expect_replies:
        body["deliveryMode"] = "expectReplies"
    body.update(extra)
    return body


def reply_texts(payload: dict) -> list[str]:
    """What the user sees, in order: each message's text, or its card rendered as text."""
    from bot.cards.common import card_to_text

    out = []
    for item in payload.get("activities", []):
        if item.get("type") != "message":
            continue
        if item.get("text"):
            out.append(item["text"])
        for attachment in item.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                out.append(card_to_text(attachment["content"])[0])
    return out


def cards(payload: dict) -> list[dict]:
    return [
        attachment["content"]
        for item in payload.get("activities", [])
        for attachment in item.get("attachments") or []
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


async def send(client, body: dict) -> dict:
    response = await client.post("/api/messages", json=body)
    assert response.status == 200, await response.text()
    return await response.json()
