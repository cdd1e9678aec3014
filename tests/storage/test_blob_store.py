"""The Blob state store against Azurite: what a conversation's state can rely on.

Each test names the defect of botbuilder-azure's stock BlobStorage that it guards against.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from azure.storage.blob.aio import BlobServiceClient
from botbuilder.azure import BlobStorage, BlobStorageSettings

from bot.azure_storage import build_blob_storage
from bot.settings import Settings
from bot.storage import EXPIRES_KEY, ExpiringStorage, StorageConflict, StorageUnavailable
from tests.storage.support import blob_texts

KEY = "msteams/conversations/a:conv-1/"
# A hang or 90 s of SDK retries fails the test instead of stalling the run.
GUARD_SECONDS = 15


def blob_settings(connection_string: str, container: str) -> Settings:
    return Settings.from_env(
        {"BOT_STORAGE": "blob", "BOT_BLOB_CONNECTION_STRING": connection_string, "BOT_BLOB_CONTAINER": container}
    )


@pytest.fixture
async def store(azurite, container_name):
    storage = build_blob_storage(blob_settings(azurite.connection_string, container_name))
    yield storage
    await storage.close()


async def test_missing_container_is_created_and_an_absent_item_reads_as_no_state(store, azurite, container_name):
    assert await store.read([KEY]) == {}
    await store.check_ready()
    assert await blob_texts(azurite.connection_string, container_name) == {}


async def test_written_state_is_read_back_by_another_store_with_its_e_tag(store, azurite, container_name):
    await store.write({KEY: {"DialogState": {"step": "topic"}}})
    other = build_blob_storage(blob_settings(azurite.connection_string, container_name))
    try:
        item = (await other.read([KEY]))[KEY]
    finally:
        await other.close()
    assert item["DialogState"] == {"step": "topic"}
    assert item["e_tag"]


async def test_state_written_by_the_stock_blob_storage_is_readable(azurite, container_name, store):
    stock = BlobStorage(BlobStorageSettings(container_name=container_name, connection_string=azurite.connection_string))
    await stock.write({KEY: {"DialogState": {"step": "record"}}})
    assert (await store.read([KEY]))[KEY]["DialogState"] == {"step": "record"}


async def test_a_stale_e_tag_is_refused_not_silently_overwritten(store):
    await store.write({KEY: {"step": "topic"}})
    seen_by_both = (await store.read([KEY]))[KEY]
    await store.write({KEY: {**seen_by_both, "step": "record"}})
    with pytest.raises(StorageConflict):
        await store.write({KEY: {**seen_by_both, "step": "act"}})
    assert (await store.read([KEY]))[KEY]["step"] == "record"


async def test_two_first_writes_of_one_conversation_cannot_both_win(store):
    """Without an e_tag the stock store overwrites; here a first write only creates."""
    await store.write({KEY: {"step": "danger"}})
    with pytest.raises(StorageConflict):
        await store.write({KEY: {"step": "with-child"}})
    assert (await store.read([KEY]))[KEY]["step"] == "danger"


async def test_a_second_save_in_the_same_turn_uses_the_new_e_tag(store):
    expiring = ExpiringStorage(store, ttl_seconds=60)
    state = {"step": "topic"}
    await expiring.write({KEY: state})
    state["step"] = "record"
    await expiring.write({KEY: state})
    assert (await expiring.read([KEY]))[KEY]["step"] == "record"


async def test_expired_state_reads_as_none_and_its_blob_is_deleted(store, azurite, container_name):
    now = [1_000_000.0]
    expiring = ExpiringStorage(store, ttl_seconds=60, clock=lambda: now[0])
    await expiring.write({KEY: {"DialogState": {"path": ["danger", "with-child"]}}})
    stored = await blob_texts(azurite.connection_string, container_name)
    assert EXPIRES_KEY in stored[KEY]
    now[0] += 61
    assert await expiring.read([KEY]) == {}
    assert await blob_texts(azurite.connection_string, container_name) == {}


async def test_stopped_azurite_is_an_outage_not_an_empty_conversation(own_azurite, container_name):
    storage = build_blob_storage(blob_settings(own_azurite.connection_string, container_name))
    try:
        await storage.write({KEY: {"step": "record"}})
        own_azurite.stop()
        with pytest.raises(StorageUnavailable):
            await asyncio.wait_for(storage.read([KEY]), GUARD_SECONDS)
        with pytest.raises(StorageUnavailable):
            await asyncio.wait_for(storage.check_ready(), GUARD_SECONDS)
        own_azurite.start()
        assert (await storage.read([KEY]))[KEY]["step"] == "record"
    finally:
        await storage.close()


async def test_hung_azurite_fails_within_the_bound_and_recovers(own_azurite, container_name):
    storage = build_blob_storage(blob_settings(own_azurite.connection_string, container_name), timeout_seconds=1)
    try:
        await storage.write({KEY: {"step": "act"}})
        own_azurite.freeze()
        with pytest.raises(StorageUnavailable):
            await asyncio.wait_for(storage.read([KEY]), GUARD_SECONDS)
        own_azurite.thaw()
        assert (await storage.read([KEY]))[KEY]["step"] == "act"
    finally:
        own_azurite.thaw()
        await storage.close()


@pytest.mark.parametrize(
    "status, content_type",
    [(403, "application/xml"), (500, "application/xml"), (503, "application/xml"), (502, "text/html")],
)
async def test_an_http_error_is_an_outage_where_the_stock_store_says_no_state(
    aiohttp_server, container_name, status, content_type
):
    """The stock BlobStorage.read returns {} for a 403/5xx: a practitioner's guide would restart."""

    async def failing(_request: web.Request) -> web.Response:
        return web.Response(status=status, text="<Error><Code>ServerBusy</Code></Error>", content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", failing)
    server = await aiohttp_server(app, host="127.0.0.1")
    connection_string = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"BlobEndpoint=http://127.0.0.1:{server.port}/devstoreaccount1;"
    )
    storage = build_blob_storage(blob_settings(connection_string, container_name))
    try:
        with pytest.raises(StorageUnavailable):
            await asyncio.wait_for(storage.read([KEY]), GUARD_SECONDS)
        with pytest.raises(StorageUnavailable):
            await asyncio.wait_for(storage.check_ready(), GUARD_SECONDS)
    finally:
        await storage.close()


async def test_the_sweep_deletes_state_nobody_came_back_to_and_keeps_the_rest(store, azurite, container_name):
    now = [1_000_000.0]
    expiring = ExpiringStorage(store, ttl_seconds=60, clock=lambda: now[0])
    await expiring.write({"msteams/conversations/a:left/": {"DialogState": {"path": ["danger"]}}})
    now[0] += 50
    await expiring.write({"msteams/conversations/a:active/": {"DialogState": {"path": ["danger", "topic"]}}})
    await store.write({"not-stamped": {"kept": True}})
    now[0] += 11

    assert await expiring.sweep_expired() == 1
    remaining = await blob_texts(azurite.connection_string, container_name)
    assert sorted(remaining) == ["msteams/conversations/a:active/", "not-stamped"]


async def test_a_sweep_while_storage_is_down_waits_for_the_next_one(own_azurite, container_name):
    storage = build_blob_storage(blob_settings(own_azurite.connection_string, container_name), timeout_seconds=1)
    now = [1_000_000.0]
    expiring = ExpiringStorage(storage, ttl_seconds=60, clock=lambda: now[0])
    try:
        await expiring.write({KEY: {"step": "record"}})
        now[0] += 61
        own_azurite.stop()
        assert await asyncio.wait_for(expiring.sweep_expired(), GUARD_SECONDS) == 0
        own_azurite.start()
        assert await expiring.sweep_expired() == 1
        assert await blob_texts(own_azurite.connection_string, container_name) == {}
    finally:
        await storage.close()


async def test_a_deleted_container_is_an_outage_for_one_turn_then_recreated(store, azurite, container_name):
    await store.write({KEY: {"step": "topic"}})
    async with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        await service.get_container_client(container_name).delete_container()
    assert await store.read([KEY]) == {}
    with pytest.raises(StorageUnavailable):
        await store.write({KEY: {"step": "record"}})
    await store.write({KEY: {"step": "record"}})
    assert (await store.read([KEY]))[KEY]["step"] == "record"
