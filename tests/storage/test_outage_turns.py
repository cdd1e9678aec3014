"""The real app in-process over a store that is down or that loses e_tag races: what the user gets.

The same behaviour against Azurite with real processes is in test_bot_processes.py; these run
without Node, so a storage regression shows up even where Azurite is not installed.
"""

from __future__ import annotations

import copy

from botbuilder.core import MemoryStorage

from bot.storage import ExpiringStorage, StorageConflict, StorageUnavailable
from tests.conftest import activity, reply_texts, send
from tests.storage.flow import FLOW, steps_shown


class SwitchableStore(MemoryStorage):
    """Memory state that can be taken down, or made to lose the next N write races. Reads hand out
    copies, as a remote store does (MemoryStorage shares its nested dicts with the turn)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.fail_writes = False
        self.conflicts_to_raise = 0

    async def read(self, keys):
        if self.down:
            raise StorageUnavailable("down")
        return copy.deepcopy(await super().read(keys))

    async def write(self, changes):
        if self.down or self.fail_writes:
            raise StorageUnavailable("down")
        if self.conflicts_to_raise:
            self.conflicts_to_raise -= 1
            raise StorageConflict("another instance saved first")
        await super().write(changes)

    async def check_ready(self) -> None:
        if self.down:
            raise StorageUnavailable("down")


async def test_outage_mid_flow_answers_999_and_routes_and_resumes_the_same_step(aiohttp_client, make_app, knowledge):
    store = SwitchableStore()
    client = await aiohttp_client(make_app(storage=ExpiringStorage(store, ttl_seconds=600)))
    conversation = "a:conv-outage"
    for text, _step in FLOW[:3]:
        await send(client, activity(text, conversation_id=conversation))

    store.down = True
    payload = await send(client, activity("images or videos", conversation_id=conversation))
    texts = reply_texts(payload)
    # the emergency card: its line, then its tap-to-call button
    assert texts[0] == knowledge.messages.text("emergency") + "\nCall 999"
    at_risk = next(need.title for need in knowledge.directory.needs() if need.id == "child-at-risk-now")
    assert any(text.startswith(at_risk) and "999" in text for text in texts)
    assert (await client.get("/readyz")).status == 503

    store.down = False
    assert (await client.get("/readyz")).status == 200
    payload = await send(client, activity("images or videos", conversation_id=conversation))
    assert steps_shown(payload, knowledge.flow) == ["images-or-videos"]


async def test_a_turn_that_lost_a_write_race_runs_again_on_fresh_state(aiohttp_client, make_app, knowledge):
    store = SwitchableStore()
    client = await aiohttp_client(make_app(storage=ExpiringStorage(store, ttl_seconds=600)))
    conversation = "a:conv-race"
    for text, _step in FLOW[:4]:
        await send(client, activity(text, conversation_id=conversation))

    store.conflicts_to_raise = 1
    payload = await send(client, activity("next", conversation_id=conversation))
    assert steps_shown(payload, knowledge.flow) == ["record"]
    assert len(reply_texts(payload)) == len(set(reply_texts(payload)))


async def test_a_turn_that_keeps_losing_write_races_says_so_instead_of_dropping_it(aiohttp_client, make_app, knowledge):
    store = SwitchableStore()
    client = await aiohttp_client(make_app(storage=ExpiringStorage(store, ttl_seconds=600)))
    conversation = "a:conv-race-lost"
    for text, _step in FLOW[:4]:
        await send(client, activity(text, conversation_id=conversation))

    store.conflicts_to_raise = 100
    texts = reply_texts(await send(client, activity("next", conversation_id=conversation)))
    # the emergency card: its line, then its tap-to-call button
    assert texts[0] == knowledge.messages.text("emergency") + "\nCall 999", "999 first, as in an outage"
    assert texts[-1] == knowledge.messages.text("storage_unavailable")
    store.conflicts_to_raise = 0
    payload = await send(client, activity("help", conversation_id=conversation))
    assert steps_shown(payload, knowledge.flow) == ["images-or-videos"]


async def post_normal(client, channel, text: str, conversation: str) -> list[str]:
    """Send as Teams does (replies go to the serviceUrl); what the channel received for this turn."""
    before = len(channel.received)
    body = activity(text, conversation_id=conversation, expect_replies=False, serviceUrl=channel.url)
    response = await client.post("/api/messages", json=body)
    assert response.status < 300, await response.text()
    return reply_texts({"activities": channel.received[before:]})


async def test_with_normal_delivery_a_lost_race_reaches_teams_once(aiohttp_client, make_app, knowledge, channel):
    """The turn's messages wait for its save, so the re-run's step is the only one Teams sees."""
    store = SwitchableStore()
    client = await aiohttp_client(make_app(storage=ExpiringStorage(store, ttl_seconds=600)))
    conversation = "a:conv-normal-race"
    for text, _step in FLOW[:4]:
        await post_normal(client, channel, text, conversation)

    store.conflicts_to_raise = 1
    texts = await post_normal(client, channel, "next", conversation)
    assert steps_shown({"activities": [{"type": "message", "text": t} for t in texts]}, knowledge.flow) == ["record"]
    assert len(texts) == len(set(texts))


async def test_with_normal_delivery_an_outage_sends_999_first_and_no_unsaved_step(
    aiohttp_client, make_app, knowledge, channel
):
    store = SwitchableStore()
    client = await aiohttp_client(make_app(storage=ExpiringStorage(store, ttl_seconds=600)))
    conversation = "a:conv-normal-outage"
    for text, _step in FLOW[:4]:
        await post_normal(client, channel, text, conversation)

    store.fail_writes = True
    texts = await post_normal(client, channel, "next", conversation)
    # the emergency card: its line, then its tap-to-call button
    assert texts[0] == knowledge.messages.text("emergency") + "\nCall 999"
    assert steps_shown({"activities": [{"type": "message", "text": t} for t in texts]}, knowledge.flow) == []

    store.fail_writes = False
    texts = await post_normal(client, channel, "next", conversation)
    assert steps_shown({"activities": [{"type": "message", "text": t} for t in texts]}, knowledge.flow) == ["record"]
