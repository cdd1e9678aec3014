"""Stored conversation state expires: after the TTL a read finds nothing and the item is gone."""

from botbuilder.core import MemoryStorage

from bot.storage import ExpiringStorage


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_items_expire_after_the_ttl_and_are_deleted():
    clock = Clock()
    inner = MemoryStorage()
    storage = ExpiringStorage(inner, ttl_seconds=60, clock=clock)
    await storage.write({"conv/1": {"step": "record"}})

    clock.now += 59
    assert (await storage.read(["conv/1"]))["conv/1"]["step"] == "record"

    clock.now += 2
    assert await storage.read(["conv/1"]) == {}
    assert "conv/1" not in inner.memory


async def test_each_write_extends_the_expiry():
    clock = Clock()
    storage = ExpiringStorage(MemoryStorage(), ttl_seconds=60, clock=clock)
    await storage.write({"k": {"n": 1}})
    clock.now += 50
    await storage.write({"k": {"n": 2}})
    clock.now += 50
    assert (await storage.read(["k"]))["k"]["n"] == 2


async def test_purge_sweeps_items_nobody_reads_again():
    clock = Clock()
    inner = MemoryStorage()
    storage = ExpiringStorage(inner, ttl_seconds=10, clock=clock)
    await storage.write({"a": {"x": 1}, "b": {"x": 2}})
    clock.now += 11
    assert storage.purge_expired() == 2
    assert inner.memory == {}
