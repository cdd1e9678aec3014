"""The Blob expiry sweep against Azurite (issue 16, item 9): a conversation id with control
characters no longer breaks the listing (Azurite answered the whole listing with a 500, and the
sweep silently deleted nothing), and one blob that cannot be deleted is counted, logged by hashed
name, and does not stop the sweep deleting the rest."""

from __future__ import annotations

import logging

from azure.storage.blob.aio import BlobServiceClient

from bot.azure_storage import build_blob_storage
from bot.settings import Settings
from bot.storage import ExpiringStorage

TTL = 600
BAD_IDS = ["a:bad\x01\x1b[31mred", "a:new\nline", "a:tab\tand%percent", "a:del\x7f", "a:c1\x85"]
GOOD_IDS = ["a:ok-1", "19:meeting_abc@thread.v2", "a:ok-3"]


def key(conversation_id: str) -> str:
    return f"msteams/conversations/{conversation_id}/"


def blob_settings(connection_string: str, container: str) -> Settings:
    return Settings.from_env(
        {"BOT_STORAGE": "blob", "BOT_BLOB_CONNECTION_STRING": connection_string, "BOT_BLOB_CONTAINER": container}
    )


async def names(connection_string: str, container: str) -> list[str]:
    async with BlobServiceClient.from_connection_string(connection_string) as service:
        return [blob.name async for blob in service.get_container_client(container).list_blobs()]


async def test_control_characters_in_an_id_do_not_stop_the_sweep(azurite, container_name, caplog):
    caplog.set_level(logging.INFO)
    now = [1_000_000.0]
    inner = build_blob_storage(blob_settings(azurite.connection_string, container_name))
    storage = ExpiringStorage(inner, TTL, clock=lambda: now[0])
    try:
        for conversation in BAD_IDS + GOOD_IDS:
            await storage.write({key(conversation): {"DialogState": {"step": "topic"}}})
        # every item reads back under its own key
        for conversation in BAD_IDS + GOOD_IDS:
            assert (await storage.read([key(conversation)]))[key(conversation)]["DialogState"] == {"step": "topic"}
        assert len(await names(azurite.connection_string, container_name)) == len(BAD_IDS + GOOD_IDS)
        now[0] += TTL + 1
        deleted = await storage.sweep_expired()
    finally:
        await storage.close()
    print(f"\nblob sweep: {deleted} of {len(BAD_IDS + GOOD_IDS)} expired items deleted ({len(BAD_IDS)} with control characters)")
    assert deleted == len(BAD_IDS + GOOD_IDS)
    assert await names(azurite.connection_string, container_name) == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_blob_that_cannot_be_deleted_is_counted_and_the_rest_go(azurite, container_name, caplog):
    caplog.set_level(logging.INFO)
    now = [1_000_000.0]
    inner = build_blob_storage(blob_settings(azurite.connection_string, container_name))
    storage = ExpiringStorage(inner, TTL, clock=lambda: now[0])
    try:
        for conversation in GOOD_IDS:
            await storage.write({key(conversation): {"DialogState": {"step": "topic"}}})
        async with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
            leased = service.get_container_client(container_name).get_blob_client(key(GOOD_IDS[0]))
            await leased.acquire_lease(lease_duration=-1)  # a leased blob refuses deletion
        now[0] += TTL + 1
        deleted = await storage.sweep_expired()
    finally:
        await storage.close()
    assert deleted == len(GOOD_IDS) - 1
    assert await names(azurite.connection_string, container_name) == [key(GOOD_IDS[0])]
    reports = [r for r in caplog.records if r.getMessage() == "sweep_items_not_deleted"]
    assert [r.count for r in reports] == [1]
    assert GOOD_IDS[0] not in str(vars(reports[0])), "the blob's name is logged hashed"
