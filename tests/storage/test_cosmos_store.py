"""The Cosmos DB state store without a Cosmos account: a stand-in for the SDK's (synchronous)
container client, so errors, hangs and the TTL setting can be driven.

Not proven here: behaviour against a live Cosmos DB or its emulator (none runs on this machine).
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from azure.cosmos.exceptions import (
    CosmosAccessConditionFailedError,
    CosmosHttpResponseError,
    CosmosResourceNotFoundError,
)

from bot.azure_storage import build_cosmos_storage
from bot.settings import Settings
from bot.storage import StorageConflict, StorageUnavailable

KEY = "msteams/conversations/a:conv-1/"
GUARD_SECONDS = 15


class StandInContainer:
    """Holds documents like a Cosmos container with /id partitioning; can fail or hang on demand."""

    def __init__(self, default_ttl=None):
        self.documents: dict[str, dict] = {}
        self.properties = {"id": "bot-state", "partitionKey": {"paths": ["/id"]}, "defaultTtl": default_ttl}
        self.error: Exception | None = None
        self.release = threading.Event()
        self.release.set()

    def _maybe_fail(self):
        self.release.wait(timeout=30)
        if self.error is not None:
            raise self.error

    def read(self):
        self._maybe_fail()
        return dict(self.properties)

    def read_item(self, item, partition_key):
        self._maybe_fail()
        if item not in self.documents:
            raise CosmosResourceNotFoundError(status_code=404, message="not found")
        return dict(self.documents[item])

    def upsert_item(self, body, etag=None, match_condition=None):
        self._maybe_fail()
        current = self.documents.get(body["id"])
        if etag is not None and (current is None or current["_etag"] != etag):
            raise CosmosAccessConditionFailedError(status_code=412, message="precondition failed")
        version = int(current["_etag"]) + 1 if current else 1
        self.documents[body["id"]] = {**body, "_etag": str(version)}

    def delete_item(self, item, partition_key):
        self._maybe_fail()
        self.documents.pop(item, None)


class StandInDatabase:
    def __init__(self):
        self.replaced_with_ttl = None

    def replace_container(self, container, partition_key, default_ttl=None, **_kwargs):
        self.replaced_with_ttl = default_ttl
        container.properties["defaultTtl"] = default_ttl


def cosmos_settings(ttl_seconds: int = 900) -> Settings:
    return Settings.from_env(
        {
            "BOT_STORAGE": "cosmos",
            "BOT_COSMOS_ENDPOINT": "https://127.0.0.1:1/",
            "BOT_COSMOS_KEY": "a2V5",
            "BOT_STATE_TTL_SECONDS": str(ttl_seconds),
        }
    )


@pytest.fixture
def container():
    stand_in = StandInContainer()
    yield stand_in
    stand_in.release.set()


@pytest.fixture
def store(container):
    storage = build_cosmos_storage(cosmos_settings(), timeout_seconds=1)
    storage.container = container  # the stand-in replaces the account: no network from here on
    storage.database = StandInDatabase()
    return storage


async def test_building_the_store_makes_no_network_call():
    storage = build_cosmos_storage(cosmos_settings())
    assert storage.container is None and storage.client is None


async def test_the_container_default_ttl_becomes_the_state_ttl():
    storage = build_cosmos_storage(cosmos_settings(ttl_seconds=1234))
    container, database = StandInContainer(default_ttl=None), StandInDatabase()
    storage.container, storage.database = container, database
    assert await storage.read([KEY]) == {}
    assert database.replaced_with_ttl == 1234
    assert container.properties["defaultTtl"] == 1234


async def test_state_round_trips_and_a_stale_e_tag_is_a_conflict(store):
    await store.write({KEY: {"step": "topic"}})
    read_once = (await store.read([KEY]))[KEY]
    await store.write({KEY: {**read_once, "step": "record"}})
    with pytest.raises(StorageConflict):
        await store.write({KEY: {**read_once, "step": "act"}})
    assert (await store.read([KEY]))[KEY]["step"] == "record"


@pytest.mark.parametrize("status", [401, 403, 429, 500, 503])
async def test_a_service_error_is_an_outage_not_an_empty_conversation(store, container, status):
    container.error = CosmosHttpResponseError(status_code=status, message="unavailable")
    with pytest.raises(StorageUnavailable):
        await asyncio.wait_for(store.read([KEY]), GUARD_SECONDS)
    with pytest.raises(StorageUnavailable):
        await asyncio.wait_for(store.check_ready(), GUARD_SECONDS)


async def test_a_hung_cosmos_fails_within_the_bound_and_the_event_loop_keeps_running(store, container):
    """The SDK's client is synchronous: run on the loop, one hung call would stall every chat."""
    container.release.clear()
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    running = asyncio.create_task(ticker())
    try:
        with pytest.raises(StorageUnavailable):
            await asyncio.wait_for(store.read([KEY]), GUARD_SECONDS)
    finally:
        running.cancel()
        container.release.set()
    assert ticks > 0
