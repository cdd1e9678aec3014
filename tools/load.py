"""Bounded loopback load test of the real bot (``make load``).

Starts the bot (``app.main``, anonymous local mode, in-memory state) and a local channel server
as separate processes, then for a fixed time per scenario keeps a fixed number of conversations
busy and reports messages/s, p50/p99 latency (request until the reply was delivered) and errors:

1. ``healthy``: every conversation replies to a fast serviceUrl;
2. ``one slow serviceUrl``: the same, plus 12 conversations whose serviceUrl takes 2 s to answer
   each reply (the case that delayed a healthy reply by 39 s on the raw SDK). Healthy and slow
   conversations are reported apart.

Loopback only; every loop is bounded by time and by request count, and the servers are stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_turns import activity, child, free_port, wait_until_up  # noqa: E402

MAX_REQUESTS_PER_SCENARIO = 50_000


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0

    def summary(self, seconds: float) -> str:
        if not self.latencies:
            return "no messages"
        ordered = sorted(self.latencies)
        p50 = ordered[len(ordered) // 2] * 1000
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
        return f"{len(ordered) / seconds:7.1f} msg/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  errors {self.errors}  ({len(ordered)} messages)"


async def run_scenario(session, url: str, service_url: str, slow_url: str | None, seconds: float, healthy_workers: int, slow_workers: int):
    healthy, slow = Tally(), Tally()
    deadline = time.monotonic() + seconds
    issued = 0

    async def worker(index: int, target: str, tally: Tally) -> None:
        nonlocal issued
        n = 0
        while time.monotonic() < deadline and issued < MAX_REQUESTS_PER_SCENARIO:
            issued += 1
            n += 1
            body = activity("what is CEOP", target, f"a:load-{'slow' if tally is slow else 'ok'}-{index}")
            started = time.perf_counter()
            try:
                async with session.post(url, json=body) as response:
                    await response.read()
                    ok = response.status == 201
            except OSError:
                ok = False
            tally.latencies.append(time.perf_counter() - started)
            tally.errors += 0 if ok else 1

    started = time.monotonic()
    tasks = [worker(i, service_url, healthy) for i in range(healthy_workers)]
    if slow_url:
        tasks += [worker(i, slow_url, slow) for i in range(slow_workers)]
    await asyncio.gather(*tasks)
    return healthy, slow, time.monotonic() - started


async def main_async(seconds: float, workers: int, slow_workers: int) -> int:
    import aiohttp

    channel_port, bot_port = free_port(), free_port()
    with child("channel", channel_port) as channel, child("our-bot", bot_port) as bot:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=workers + slow_workers + 8)) as session:
            await wait_until_up(session, f"http://127.0.0.1:{channel_port}/stats", channel)
            await wait_until_up(session, f"http://127.0.0.1:{bot_port}/healthz", bot)
            url = f"http://127.0.0.1:{bot_port}/api/messages"
            service_url = f"http://127.0.0.1:{channel_port}/"
            slow_url = f"http://127.0.0.1:{channel_port}/slow/"
            await run_scenario(session, url, service_url, None, 1.0, 4, 0)  # warm-up

            print(f"load: {seconds:.0f} s per scenario, {workers} busy conversations, loopback")
            healthy, _, elapsed = await run_scenario(session, url, service_url, None, seconds, workers, 0)
            print(f"healthy               : {healthy.summary(elapsed)}")
            mixed, slow, elapsed = await run_scenario(session, url, service_url, slow_url, seconds, workers, slow_workers)
            print(f"with one slow URL, ok : {mixed.summary(elapsed)}")
            print(f"   the {slow_workers} slow ones  : {slow.summary(elapsed)}")
    return 1 if healthy.errors or mixed.errors or slow.errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--slow-workers", type=int, default=12)
    args = parser.parse_args()
    return asyncio.run(main_async(min(args.seconds, 120.0), args.workers, args.slow_workers))


if __name__ == "__main__":
    sys.exit(main())
