"""Stored state is plain JSON (issue 16, item 10): what the bot writes to Blob holds no "py/"
entries, reads back as the same dialog state, and a blob whose jsonpickle names some other class
is refused without building it (the conversation starts afresh and its next save replaces it)."""

from __future__ import annotations

import json

from azure.storage.blob.aio import BlobServiceClient
from botbuilder.dialogs import DialogInstance, DialogState

from bot.azure_storage import build_blob_storage
from bot.settings import Settings
from tests.storage.support import blob_texts

KEY = "msteams/conversations/a:plain-1/"
BUILT: list[str] = []


class Planted:
    """Stands for any importable class a storage writer could name: records being built."""

    def __setstate__(self, state):
        BUILT.append("setstate")

    def __init__(self, *args, **kwargs):
        BUILT.append("init")


def blob_settings(connection_string: str, container: str) -> Settings:
    return Settings.from_env(
        {"BOT_STORAGE": "blob", "BOT_BLOB_CONNECTION_STRING": connection_string, "BOT_BLOB_CONTAINER": container}
    )


def dialog_state() -> DialogState:
    inner = DialogState([DialogInstance(id="step-loop", state={"options": {"path": ["a", "b"]}, "stepIndex": 1})])
    return DialogState([DialogInstance(id="disclosure", state={"dialogs": inner, "pair": (1, 2)})])


async def test_state_is_stored_as_plain_json_and_reads_back(azurite, container_name):
    store = build_blob_storage(blob_settings(azurite.connection_string, container_name))
    try:
        await store.write({KEY: {"DialogState": dialog_state(), "Welcomed": True}})
        text = (await blob_texts(azurite.connection_string, container_name))[KEY]
        assert "py/" not in text
        item = (await store.read([KEY]))[KEY]
    finally:
        await store.close()
    outer = item["DialogState"]
    assert isinstance(outer, DialogState) and outer.dialog_stack[0].id == "disclosure"
    inner = outer.dialog_stack[0].state["dialogs"]
    assert isinstance(inner, DialogState) and inner.dialog_stack[0].state == {"options": {"path": ["a", "b"]}, "stepIndex": 1}
    assert item["Welcomed"] is True and item["e_tag"]
    assert json.loads(text)["Welcomed"] is True


async def test_a_blob_naming_another_class_is_refused_unbuilt(azurite, container_name):
    store = build_blob_storage(blob_settings(azurite.connection_string, container_name))
    planted = {"DialogState": {"py/object": f"{__name__}.Planted", "x": 1}, "Welcomed": True}
    async with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        container = service.get_container_client(container_name)
        await container.create_container()
        await container.get_blob_client(KEY).upload_blob(json.dumps(planted))
    BUILT.clear()
    try:
        item = (await store.read([KEY]))[KEY]
        assert BUILT == [], "nothing named by the blob was built"
        assert set(item) == {"e_tag"}
        item["DialogState"] = dialog_state()
        await store.write({KEY: item})  # the next save replaces the tampered blob
        text = (await blob_texts(azurite.connection_string, container_name))[KEY]
    finally:
        await store.close()
    assert "Planted" not in text and "py/" not in text
