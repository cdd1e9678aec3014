"""Process one delivery of an activity once.

The Bot Framework retries a delivery it thinks failed (a slow answer, a dropped connection), so the
same activity id can arrive twice: a practitioner would see every answer twice, and a step of the
disclosure guide would advance twice. ``RecentActivities`` remembers, for a bounded time and count,
the activities this process has taken on, keyed by a hash of conversation id and activity id (the
ids themselves are not kept). A delivery whose turn failed is forgotten, so a retry can succeed.

This is per process; a multi-instance deployment relies on the channel's stickiness and on the
conversation state's own step tracking.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Callable

DEFAULT_TTL_SECONDS = 10 * 60
DEFAULT_MAX_ENTRIES = 50_000


def delivery_key(conversation_id: str, activity_id: str) -> str:
    return hashlib.sha256(f"{conversation_id}\x00{activity_id}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


class RecentActivities:
    def __init__(
        self,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def claim(self, conversation_id: str | None, activity_id: str | None) -> bool:
        """True if this delivery is new (and is now remembered); False for a duplicate.
        An activity without both ids cannot be recognised again, so it is always new."""
        if not conversation_id or not activity_id:
            return True
        now = self._clock()
        self._expire(now)
        key = delivery_key(conversation_id, activity_id)
        if key in self._seen:
            return False
        self._seen[key] = now + self.ttl_seconds
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return True

    def release(self, conversation_id: str | None, activity_id: str | None) -> None:
        """Forget a delivery whose turn failed, so the channel's retry is processed."""
        if conversation_id and activity_id:
            self._seen.pop(delivery_key(conversation_id, activity_id), None)

    def _expire(self, now: float) -> None:
        while self._seen:
            key, expires_at = next(iter(self._seen.items()))
            if expires_at > now:
                break
            self._seen.popitem(last=False)
