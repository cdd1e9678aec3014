"""State storage: chosen by configuration, and every stored item expires.

Conversation state can hold where a practitioner is in the disclosure guide; it must not outlive
the conversation. ``ExpiringStorage`` wraps any botbuilder ``Storage`` (memory, Blob, Cosmos):
each write stamps an expiry, a read of an expired item deletes it and returns nothing, and
``purge_expired`` sweeps what nobody reads again (memory storage; Blob and Cosmos also carry a
server-side lifecycle/TTL rule from the deployment template).
"""

from __future__ import annotations

import time
from typing import Callable, Dict, List

from botbuilder.core import MemoryStorage, Storage

from bot.settings import Settings

EXPIRES_KEY = "_expires_at"


class ExpiringStorage(Storage):
    def __init__(self, inner: Storage, ttl_seconds: int, clock: Callable[[], float] = time.time):
        super().__init__()
        self.inner = inner
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    async def read(self, keys: List[str]) -> Dict[str, object]:
        items = await self.inner.read(keys)
        now = self._clock()
        fresh: Dict[str, object] = {}
        expired: list[str] = []
        for key, item in items.items():
            expires_at = _expiry_of(item)
            if expires_at is not None and expires_at <= now:
                expired.append(key)
                continue
            if isinstance(item, dict):
                item = {k: v for k, v in item.items() if k != EXPIRES_KEY}
            fresh[key] = item
        if expired:
            await self.inner.delete(expired)
        return fresh

    async def write(self, changes: Dict[str, object]) -> None:
        if not changes:
            return
        expires_at = self._clock() + self.ttl_seconds
        stamped: Dict[str, object] = {}
        for key, item in changes.items():
            if isinstance(item, dict):
                item = {**item, EXPIRES_KEY: expires_at}
            stamped[key] = item
        await self.inner.write(stamped)

    async def delete(self, keys: List[str]) -> None:
        await self.inner.delete(keys)

    async def check_ready(self) -> None:
        """Raise if the store cannot be reached (``/readyz``). Stores may define a stricter probe."""
        probe = getattr(self.inner, "check_ready", None)
        if probe is not None:
            await probe()
        else:
            await self.inner.read(["readyz-probe"])

    def purge_expired(self) -> int:
        """Drop expired items from an in-memory store; returns how many went."""
        if not isinstance(self.inner, MemoryStorage):
            return 0
        now = self._clock()
        expired = [k for k, v in self.inner.memory.items() if (_expiry_of(v) or now + 1) <= now]
        for key in expired:
            del self.inner.memory[key]
        return len(expired)


def _expiry_of(item: object) -> float | None:
    if isinstance(item, dict):
        value = item.get(EXPIRES_KEY)
        return float(value) if isinstance(value, (int, float)) else None
    return None


def build_storage(settings: Settings) -> ExpiringStorage:
    """The configured store, wrapped so everything in it expires after BOT_STATE_TTL_SECONDS."""
    if settings.storage == "blob":
        from bot.azure_storage import build_blob_storage

        inner = build_blob_storage(settings)
    elif settings.storage == "cosmos":
        from bot.azure_storage import build_cosmos_storage

        inner = build_cosmos_storage(settings)
    else:
        inner = MemoryStorage()
    return ExpiringStorage(inner, settings.state_ttl_seconds)
