"""Conversation state in Azure Blob Storage or Cosmos DB, through botbuilder-azure, made safe to
rely on mid-conversation.

The stock stores have three behaviours a safeguarding bot cannot inherit:

- ``BlobStorage.read`` swallows every HTTP error, not only 404: an outage, a 5xx or a revoked key
  reads as "no state", so the practitioner's place in the disclosure guide would silently restart
  and the next write would overwrite what was there. Here only a real 404 means "no state";
  anything else raises :class:`StorageUnavailable`.
- The Azure SDK's default retry policy spends about 90 s on an unreachable account before it
  gives up. A person who has just heard a disclosure must not wait that long: every call here is
  bounded (3 s by default) and fails fast, so the turn-error handler can still give 999 and the
  national routes within seconds.
- A write without an e_tag overwrites unconditionally, so two turns that both started from "no
  state" lose one of them. Here a first write only creates (If-None-Match: *), a later one only
  replaces the version it read (If-Match: e_tag), and losing either race raises
  :class:`StorageConflict` instead of dropping an update. (The turn that lost is run again on
  fresh state by ``bot.storage.OneTurnAtATime`` when it can be.)

Items are stored as plain JSON (one blob per key; ``to_plain_state``), not the stock store's
jsonpickle, so reading never builds an object a blob names; state the stock store wrote is still
read, its DialogState and DialogInstance entries only.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable, Dict, List, TypeVar

import aiohttp
from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    DeserializationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import BlobServiceClient, ContainerClient, LinearRetry
from botbuilder.azure import BlobStorage, BlobStorageSettings, CosmosDbPartitionedConfig, CosmosDbPartitionedStorage

from bot.logs import bot_logger, hash_id
from bot.settings import Settings
from bot.storage import EXPIRES_KEY, StorageConflict, StorageUnavailable

STORAGE_TIMEOUT_SECONDS = 3.0
SWEEP_TIMEOUT_SECONDS = 60.0
EXPIRY_METADATA = "expiresat"
CONFLICT_STATUSES = frozenset({409, 412})
T = TypeVar("T")
__all__ = ["StorageConflict", "StorageUnavailable", "build_blob_storage", "build_cosmos_storage"]


def is_conflict(error: BaseException) -> bool:
    """A 412 (stale e_tag) or 409 (already exists). azure-storage-blob 12.7 raises a 412 on upload
    as ResourceExistsError, not ResourceModifiedError, so the status code decides."""
    if isinstance(error, (ResourceExistsError, ResourceModifiedError)):
        return True
    return isinstance(error, HttpResponseError) and error.status_code in CONFLICT_STATUSES


async def bounded(call: Awaitable[T], timeout_seconds: float) -> T:
    """Await a storage call for at most ``timeout_seconds``; any failure that is not a 404 or a
    conflict becomes StorageUnavailable (callers handle those two themselves)."""
    try:
        return await asyncio.wait_for(call, timeout=timeout_seconds)
    except (ResourceNotFoundError, StorageConflict, StorageUnavailable):
        raise
    except AzureError as error:
        if is_conflict(error):
            raise StorageConflict("state changed since it was read") from error
        raise StorageUnavailable(f"state storage answered with an error ({type(error).__name__})") from error
    except DeserializationError as error:  # e.g. a gateway's HTML error page instead of the service's XML
        raise StorageUnavailable(f"state storage answered with something else ({type(error).__name__})") from error
    except (asyncio.TimeoutError, OSError, aiohttp.ClientError) as error:
        raise StorageUnavailable(f"state storage did not answer ({type(error).__name__})") from error


def expiry_metadata(item: object) -> dict[str, str] | None:
    """The item's expiry as blob metadata, so a sweep can find expired blobs without reading them."""
    expires_at = _float(item.get(EXPIRES_KEY)) if isinstance(item, dict) else None
    return {EXPIRY_METADATA: repr(expires_at)} if expires_at is not None else None


# Characters a blob name must not carry: control characters (C0, DEL, C1) cannot be returned in a
# listing's XML (Azurite answers the whole listing with a 500; issue 16, item 9), and "%" is the
# escape itself. Conversation ids are caller-chosen, so keys can hold them.
_UNSAFE_IN_BLOB_NAMES = frozenset(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), ord("%"), 0xFFFE, 0xFFFF])


def blob_name(key: str) -> str:
    """The blob name for a state key: the key itself, unless it holds a character a listing
    cannot carry, which is percent-encoded (so keys of ordinary ids are stored as before)."""
    if not any(c in _UNSAFE_IN_BLOB_NAMES for c in key):
        return key
    return "".join(f"%{ord(c):02X}" if c in _UNSAFE_IN_BLOB_NAMES and ord(c) < 0x100 else
                   ("%EF%BF%BE" if c == "\ufffe" else "%EF%BF%BF" if c == "\uffff" else c) for c in key)


STATE_TYPE_KEY = "$state"


class StateFormatError(ValueError):
    """A stored item is not plain JSON state (see ``to_plain_state``)."""


def to_plain_state(value: object) -> object:
    """A state item as plain JSON: dicts, lists, strings, numbers, booleans, null, and the two
    objects botbuilder-dialogs keeps (DialogState, DialogInstance) as tagged dicts. The stock
    store writes jsonpickle ("py/object": any importable class), so whoever can write the storage
    account could make the bot build objects of their choosing when it reads (issue 16, item 10);
    here reading builds only those two. Anything else refuses to be stored."""
    from botbuilder.dialogs import DialogInstance, DialogState

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        if STATE_TYPE_KEY in value or any(isinstance(k, str) and k.startswith("py/") for k in value):
            raise StateFormatError("reserved key in state")
        if not all(isinstance(k, str) for k in value):
            raise StateFormatError("state keys must be strings")
        return {k: to_plain_state(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain_state(v) for v in value]
    if isinstance(value, DialogState):
        return {STATE_TYPE_KEY: "DialogState", "dialog_stack": to_plain_state(value.dialog_stack)}
    if isinstance(value, DialogInstance):
        return {STATE_TYPE_KEY: "DialogInstance", "id": value.id, "state": to_plain_state(value.state)}
    raise StateFormatError(f"state cannot hold a {type(value).__name__}")


def from_plain_state(value: object) -> object:
    """The inverse of ``to_plain_state``; also reads the stock store's jsonpickle, but only its
    DialogState, DialogInstance and tuple entries: any other "py/" entry is refused."""
    from botbuilder.dialogs import DialogInstance, DialogState

    if isinstance(value, list):
        return [from_plain_state(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(STATE_TYPE_KEY)
    legacy = value.get("py/object")
    if kind == "DialogState" or legacy == "botbuilder.dialogs.dialog_state.DialogState":
        stack = value.get("dialog_stack", value.get("_dialog_stack"))
        return DialogState(from_plain_state(stack) if isinstance(stack, list) else [])
    if kind == "DialogInstance" or legacy == "botbuilder.dialogs.dialog_instance.DialogInstance":
        state = from_plain_state(value.get("state"))
        return DialogInstance(id=value.get("id"), state=state if isinstance(state, dict) else {})
    if set(value) == {"py/tuple"} and isinstance(value["py/tuple"], list):
        return [from_plain_state(v) for v in value["py/tuple"]]
    if kind is not None or any(k.startswith("py/") for k in value):
        raise StateFormatError("stored state names a type the bot does not build")
    return {k: from_plain_state(v) for k, v in value.items()}


def _float(value: object) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def e_tag_of(item: object) -> str | None:
    if isinstance(item, dict):
        return item.get("e_tag")
    return getattr(item, "e_tag", None)


class CheckedBlobStorage(BlobStorage):
    """botbuilder-azure's BlobStorage with an outage told apart from "no state", bounded calls and
    conditional writes (see the module docstring). Reads, writes and deletes go through a client
    of its own with short timeouts and one quick retry; serialisation stays BlobStorage's.

    As with any remote store, a write that timed out may still land once the service answers (seen
    with a hung Azurite): the turn reports the outage, and the next turn reads whichever version
    is stored, so the guide is at that turn's step or the one before, never lost or mixed.
    """

    def __init__(self, settings: BlobStorageSettings, timeout_seconds: float = STORAGE_TIMEOUT_SECONDS):
        super().__init__(settings)
        self.timeout_seconds = timeout_seconds
        service = BlobServiceClient.from_connection_string(
            settings.connection_string,
            retry_policy=LinearRetry(backoff=0.2, random_jitter_range=0, retry_total=1),
            connection_timeout=timeout_seconds,
            read_timeout=timeout_seconds,
        )
        self._service = service
        self._container: ContainerClient = service.get_container_client(settings.container_name)
        self._container_exists = False

    def _store_item_to_str(self, item: object) -> str:
        """Plain JSON (``to_plain_state``), never jsonpickle; the e_tag is the blob's, not content."""
        plain = to_plain_state({k: v for k, v in item.items() if k != "e_tag"} if isinstance(item, dict) else item)
        return json.dumps(plain, separators=(",", ":"))

    async def _read_item(self, downloader) -> object:
        text = await downloader.content_as_text()
        e_tag = downloader.properties.etag.replace('"', "")
        try:
            item = from_plain_state(json.loads(text))
        except (ValueError, RecursionError) as error:
            # Not ours, or tampered with: build nothing from it. The conversation starts afresh
            # and its next save replaces the blob (the e_tag is kept for that).
            bot_logger().warning("state_refused", extra={"outcome": "state_refused", "error_type": type(error).__name__})
            return {"e_tag": e_tag}
        if isinstance(item, dict):
            item["e_tag"] = e_tag
        return item

    async def _ensure_container(self) -> None:
        if self._container_exists:
            return
        try:
            await bounded(self._container.create_container(), self.timeout_seconds)
        except StorageConflict:
            pass  # it exists already: what we wanted
        self._container_exists = True

    async def read(self, keys: List[str]) -> Dict[str, object]:
        if not keys:
            return {}
        await self._ensure_container()
        items: Dict[str, object] = {}
        for key in keys:
            blob = self._container.get_blob_client(blob_name(key))
            try:
                downloader = await bounded(blob.download_blob(), self.timeout_seconds)
                items[key] = await bounded(self._read_item(downloader), self.timeout_seconds)
            except ResourceNotFoundError:
                continue
        return items

    async def write(self, changes: Dict[str, object]) -> None:
        if not changes:
            return
        await self._ensure_container()
        for key, item in changes.items():
            e_tag = e_tag_of(item)
            if e_tag == "":
                raise ValueError("a stored item has an empty e_tag")
            body = self._store_item_to_str(item)
            blob = self._container.get_blob_client(blob_name(key))
            metadata = expiry_metadata(item)
            if e_tag == "*":
                upload = blob.upload_blob(body, overwrite=True, metadata=metadata)
            elif e_tag:
                upload = blob.upload_blob(
                    body, overwrite=True, metadata=metadata, match_condition=MatchConditions.IfNotModified, etag=e_tag
                )
            else:
                upload = blob.upload_blob(body, overwrite=False, metadata=metadata)  # create only: If-None-Match: *
            try:
                result = await bounded(upload, self.timeout_seconds)
            except ResourceNotFoundError as error:  # the container was deleted under us
                self._container_exists = False
                raise StorageUnavailable("state container is missing; it is recreated on the next turn") from error
            new_e_tag = (result or {}).get("etag")
            if isinstance(item, dict) and new_e_tag:
                item["e_tag"] = new_e_tag.replace('"', "")

    async def delete(self, keys: List[str]) -> None:
        await self._ensure_container()
        for key in keys:
            try:
                await bounded(self._container.get_blob_client(blob_name(key)).delete_blob(), self.timeout_seconds)
            except ResourceNotFoundError:
                continue

    async def delete_expired(self, now: float) -> int:
        """Delete blobs whose expiry (blob metadata, stamped by ExpiringStorage) has passed: state
        of conversations nobody comes back to. Lists names and metadata only, never downloads; a
        blob rewritten since it was listed is kept (If-Match on the listed e_tag).

        One bad item never ends the sweep: a blob that cannot be deleted (leased, or answered with
        an error) is counted and the sweep goes on; the count and the blobs' hashed names are
        logged. If the listing itself fails part-way, what was deleted so far stays deleted and
        the failure is logged (``sweep_incomplete``); the next sweep starts again."""
        stats = {"deleted": 0, "not_swept": 0, "listed": 0}
        not_swept: list[str] = []

        async def sweep() -> None:
            async for blob in self._container.list_blobs(include=["metadata"]):
                stats["listed"] += 1
                expires_at = _float((blob.metadata or {}).get(EXPIRY_METADATA))
                if expires_at is None or expires_at > now:
                    continue
                try:
                    await bounded(
                        self._container.get_blob_client(blob.name).delete_blob(
                            etag=blob.etag, match_condition=MatchConditions.IfNotModified
                        ),
                        self.timeout_seconds,
                    )
                    stats["deleted"] += 1
                except ResourceNotFoundError:
                    continue  # gone already
                except (StorageConflict, StorageUnavailable):
                    # rewritten since listed (kept on purpose), leased, or the service refused
                    stats["not_swept"] += 1
                    not_swept.append(hash_id(blob.name))

        await self._ensure_container()
        try:
            await bounded(sweep(), SWEEP_TIMEOUT_SECONDS)
        except StorageUnavailable as error:
            bot_logger().warning(
                "sweep_incomplete",
                extra={"outcome": "sweep_incomplete", **stats, "error_type": type(error.__cause__ or error).__name__},
            )
            raise
        finally:
            if not_swept:
                bot_logger().warning(
                    "sweep_items_not_deleted",
                    extra={"outcome": "sweep_items_not_deleted", "count": len(not_swept), "blobs": not_swept[:50]},
                )
        return stats["deleted"]

    async def check_ready(self) -> None:
        """Really ask the service (container properties), within the time bound."""
        try:
            await bounded(self._container.get_container_properties(), self.timeout_seconds)
        except ResourceNotFoundError:
            self._container_exists = False
            await self._ensure_container()

    async def close(self) -> None:
        await self._service.close()


def build_blob_storage(settings: Settings, timeout_seconds: float = STORAGE_TIMEOUT_SECONDS) -> CheckedBlobStorage:
    """Blob state store from BOT_BLOB_CONNECTION_STRING / BOT_BLOB_CONTAINER. No network call here:
    the container is created (if missing) on first use, so start-up never hangs on storage."""
    return CheckedBlobStorage(
        BlobStorageSettings(container_name=settings.blob_container, connection_string=settings.blob_connection_string),
        timeout_seconds=timeout_seconds,
    )


class CheckedCosmosStorage(CosmosDbPartitionedStorage):
    """botbuilder-azure's CosmosDbPartitionedStorage with a server-side TTL and bounded calls.

    The stock store calls the synchronous Cosmos client inside ``async def``: one slow request
    would stall every conversation on the event loop. Here each call runs on a worker thread and
    is abandoned after ``timeout_seconds``. The container's default TTL is set to the state TTL,
    so Cosmos deletes items nobody reads again. Errors other than "not found" (which the stock
    store already handles) raise StorageUnavailable; a 412 raises StorageConflict.
    """

    def __init__(
        self, config: CosmosDbPartitionedConfig, ttl_seconds: int, timeout_seconds: float = STORAGE_TIMEOUT_SECONDS
    ):
        super().__init__(config)
        self.ttl_seconds = ttl_seconds
        self.timeout_seconds = timeout_seconds
        self._ttl_applied = False

    async def initialize(self) -> None:
        if self._ttl_applied:
            return
        await super().initialize()  # database and container, created if missing
        self._apply_default_ttl()
        self._ttl_applied = True

    def _apply_default_ttl(self) -> None:
        from azure.cosmos import PartitionKey

        properties = self.container.read()
        if properties.get("defaultTtl") != self.ttl_seconds:
            paths = (properties.get("partitionKey") or {}).get("paths") or ["/id"]
            self.database.replace_container(
                self.container, partition_key=PartitionKey(path=paths[0]), default_ttl=self.ttl_seconds
            )

    async def _off_loop(self, operation: Callable[..., Awaitable[T]], *args: Any) -> T:
        def run() -> T:
            return asyncio.run(operation(*args))

        return await bounded(asyncio.to_thread(run), self.timeout_seconds)

    async def read(self, keys: List[str]) -> Dict[str, object]:
        return await self._off_loop(super().read, keys)

    async def write(self, changes: Dict[str, object]) -> None:
        await self._off_loop(super().write, changes)

    async def delete(self, keys: List[str]) -> None:
        await self._off_loop(super().delete, keys)

    async def check_ready(self) -> None:
        async def probe() -> None:
            await self.initialize()
            self.container.read()

        await self._off_loop(probe)


def build_cosmos_storage(settings: Settings, timeout_seconds: float = STORAGE_TIMEOUT_SECONDS) -> CheckedCosmosStorage:
    """Cosmos DB state store from BOT_COSMOS_*; the container's default TTL is BOT_STATE_TTL_SECONDS.
    No network call here: database and container are created (if missing) on first use."""
    from azure.cosmos import documents

    policy = documents.ConnectionPolicy()
    policy.RequestTimeout = max(1, int(timeout_seconds))
    config = CosmosDbPartitionedConfig(
        cosmos_db_endpoint=settings.cosmos_endpoint,
        auth_key=settings.cosmos_key,
        database_id=settings.cosmos_database,
        container_id=settings.cosmos_container,
        cosmos_client_options={"connection_policy": policy},
    )
    return CheckedCosmosStorage(config, ttl_seconds=settings.state_ttl_seconds, timeout_seconds=timeout_seconds)
