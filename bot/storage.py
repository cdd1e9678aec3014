"""State storage: chosen by configuration, and every stored item expires.

Conversation state can hold where a practitioner is in the disclosure guide; it must not outlive
the conversation. ``ExpiringStorage`` wraps any botbuilder ``Storage`` (memory, Blob, Cosmos):
each write stamps an expiry, a read of an expired item deletes it and returns nothing, and
``sweep_expired`` deletes what nobody reads again (memory in place; Blob by the expiry each blob
carries in its metadata; Cosmos deletes items itself through the container's default TTL).

A store that cannot answer raises ``StorageUnavailable`` (never "no state"), and a write that lost
a race with another instance raises ``StorageConflict``; ``OneTurnAtATime`` keeps the turns of a
conversation from interleaving and re-runs a turn that lost such a race (see bot/azure_storage.py).
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable, Dict, List

from botbuilder.core import BotState, MemoryStorage, Middleware, Storage, TurnContext
from botbuilder.schema import ActivityTypes, DeliveryModes

from bot.logs import bot_logger
from bot.settings import Settings

EXPIRES_KEY = "_expires_at"


class StorageUnavailable(RuntimeError):
    """The state store could not be reached or answered with an error (not "no such item").

    Raised instead of pretending the conversation has no state: a storage outage must not silently
    restart someone's disclosure guide. The message never names a key (keys carry conversation ids).
    """


class StorageConflict(RuntimeError):
    """Another turn wrote this item since it was read (e_tag mismatch, or it was created first)."""


class OneTurnAtATime(Middleware):
    """Turns of one conversation never interleave, so none of them loses another's update.

    In this process, turns of the same conversation wait for each other (an asyncio lock per
    conversation, dropped when nobody holds or awaits it). Across processes (scaled out behind a
    load balancer) the store's e_tags decide: the turn that saves second gets StorageConflict
    and is run again on freshly read state. That is only safe if nothing it said has left yet, so
    a turn's messages are held until its state is saved (expectReplies buffers them anyway; the
    typing indicator goes at once). Held messages go out after the save; if the store is down
    or the turn keeps losing the race they are dropped (the turn-error handler then says so, with
    999 first), so what the practitioner sees always matches the step that was stored. Any other
    failure still sends what the turn had said (it may be the 999 advice) before the error reply.
    """

    def __init__(self, conversation_state: BotState, max_attempts: int = 3):
        self.conversation_state = conversation_state
        self.max_attempts = max_attempts
        self._locks: Dict[str, asyncio.Lock] = {}
        self._users: Dict[str, int] = {}

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable]) -> None:
        conversation = context.activity.conversation
        key = f"{context.activity.channel_id}/{conversation.id if conversation else ''}"
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await self._run(context, logic)
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    async def _run(self, context: TurnContext, logic: Callable[[], Awaitable]) -> None:
        held = HeldMessages(context)
        context.on_send_activities(held.intercept)
        for attempt in range(1, self.max_attempts + 1):
            try:
                await logic()
            except StorageConflict:
                last = attempt == self.max_attempts
                held.discard(keep_holding=not last)
                if last:
                    raise
                bot_logger().info("state_conflict", extra={"outcome": "state_conflict_rerun", "attempt": attempt})
                await self.conversation_state.load(context, force=True)
                continue
            except StorageUnavailable:
                held.discard(keep_holding=False)
                raise
            except Exception:
                await held.release()
                raise
            await held.release()
            return


class HeldMessages:
    """The messages of one turn, kept back until the turn's state is saved."""

    def __init__(self, context: TurnContext):
        self.context = context
        self.holding = context.activity.delivery_mode != DeliveryModes.expect_replies
        self.messages: list = []

    async def intercept(self, _context: TurnContext, activities: list, next_send: Callable[[], Awaitable]):
        # The SDK sends whatever is left in this list once the handlers have run.
        if self.holding:
            self.messages.extend(activity for activity in activities if activity.type == ActivityTypes.message)
            activities[:] = [activity for activity in activities if activity.type != ActivityTypes.message]
        return await next_send()

    def discard(self, keep_holding: bool) -> None:
        """Drop what the turn said; the turn-error handler's own reply must then go straight out."""
        self.holding = self.holding and keep_holding
        self.messages.clear()
        self.context.buffered_reply_activities.clear()

    async def release(self) -> None:
        self.holding = False
        messages, self.messages = self.messages, []
        if messages:
            await self.context.send_activities(messages)


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
        for key, item in changes.items():
            # Stores that hand back the new e_tag (CheckedBlobStorage) set it on the copy: pass it
            # on, so a second save in the same turn is not refused as a conflict with itself.
            new_e_tag = stamped[key].get("e_tag") if isinstance(stamped[key], dict) else None
            if isinstance(item, dict) and new_e_tag and item.get("e_tag") != new_e_tag:
                item["e_tag"] = new_e_tag

    async def delete(self, keys: List[str]) -> None:
        await self.inner.delete(keys)

    async def check_ready(self) -> None:
        """Raise if the store cannot be reached (``/readyz``). Stores may define a stricter probe."""
        probe = getattr(self.inner, "check_ready", None)
        if probe is not None:
            await probe()
        else:
            await self.inner.read(["readyz-probe"])

    async def close(self) -> None:
        """Release the store's connections (Blob/Cosmos clients); nothing to do for memory."""
        close = getattr(self.inner, "close", None)
        if close is not None:
            await close()

    async def sweep_expired(self) -> int:
        """Delete expired state nobody reads again; returns how many items went. Memory is swept
        in place, Blob by the expiry in each blob's metadata; Cosmos expires items itself (the
        container's default TTL). A store that is down is swept next time."""
        if isinstance(self.inner, MemoryStorage):
            return self.purge_expired()
        delete_expired = getattr(self.inner, "delete_expired", None)
        if delete_expired is None:
            return 0
        try:
            return await delete_expired(self._clock())
        except StorageUnavailable as error:
            # Not silent: a sweep that cannot run means expired state waits to be read to go.
            bot_logger().warning("sweep_failed", extra={"outcome": "sweep_failed", "error_type": type(error.__cause__ or error).__name__})
            return 0

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
