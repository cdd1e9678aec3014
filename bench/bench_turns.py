"""Turns per second and p50/p95/p99 latency at concurrency 1, 16 and 64, in one run, for:

- ``stock-echo``: an echo bot on the UNPATCHED SDK (stock ``CloudAdapter.process``, stock msrest
  ``ClientRetryPolicy``, replies through msrest/requests), in its own process so none of our fixes
  leak into it;
- ``our-echo``: the same echo bot behind this project's HTTP layer and adapter (frozenset retry
  policy, pooled aiohttp replies, guarded auth): the plumbing alone;
- ``our-bot``: the safeguarding bot itself (``app.main``), answering an FAQ question.

Every target replies to a local channel server (``bench/channel_server.py``, its own process),
so a turn is measured from the request until the reply has been delivered. Loopback only; the
request count is bounded. ``python bench/bench_turns.py [--requests 400] [--targets ...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGETS = ("stock-echo", "our-echo", "our-bot")
CONCURRENCY = (1, 16, 64)
TEXT = {"stock-echo": "hello", "our-echo": "hello", "our-bot": "what is CEOP"}


# ------------------------------------------------------------------ the servers (child processes)


def serve_stock_echo(port: int) -> None:
    """The SDK as shipped: nothing of ours is imported."""
    from aiohttp import web
    from botbuilder.core import ActivityHandler, MessageFactory
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    class EchoBot(ActivityHandler):
        async def on_message_activity(self, turn_context):
            await turn_context.send_activity(MessageFactory.text(f"echo: {turn_context.activity.text}"))

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    bot = EchoBot()

    async def messages(request):
        return await adapter.process(request, bot)

    async def healthz(_request):
        return web.json_response({"status": "alive"})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_our_echo(port: int) -> None:
    from aiohttp import web
    from botbuilder.core import ActivityHandler, MessageFactory

    from bot.adapter import build_adapter
    from bot.http import ADAPTER, BOT, KNOWLEDGE, SETTINGS, STORAGE, add_routes
    from bot.settings import Settings
    from bot.storage import build_storage

    class EchoBot(ActivityHandler):
        async def on_message_activity(self, turn_context):
            await turn_context.send_activity(MessageFactory.text(f"echo: {turn_context.activity.text}"))

    settings = Settings.from_env({"BOT_PORT": str(port), "BOT_LOG_LEVEL": "WARNING"})
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[KNOWLEDGE] = object()
    app[STORAGE] = build_storage(settings)
    app[BOT] = EchoBot()
    app[ADAPTER] = build_adapter(settings, lambda: "Sorry, something went wrong. If a child is in immediate danger call 999.")
    add_routes(app)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_our_bot(port: int) -> None:
    import app as bot_app

    os.environ.update({"BOT_PORT": str(port), "BOT_LOG_LEVEL": "WARNING"})
    sys.exit(bot_app.main())


def serve_channel(port: int) -> None:
    from aiohttp import web

    from bench.channel_server import make_channel_app

    web.run_app(make_channel_app(), host="127.0.0.1", port=port, print=None, access_log=None)


SERVERS = {"stock-echo": serve_stock_echo, "our-echo": serve_our_echo, "our-bot": serve_our_bot, "channel": serve_channel}


# ------------------------------------------------------------------ the driver


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def child(name: str, port: int):
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", name, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_until_up(session, url: str, process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            async with session.get(url) as response:
                if response.status < 500:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def activity(text: str, service_url: str, conversation: str) -> dict:
    """A Teams personal-chat message (the tests' own builder) in one of a few conversations.
    Imported here, in the driver: the stock-SDK child must import nothing of ours."""
    from tests.http.support import message

    body = message(text, service_url=service_url)
    body["conversation"]["id"] = conversation
    return body


async def drive(session, url: str, body_for, concurrency: int, total: int) -> dict:
    latencies: list[float] = []
    errors = 0
    issued = 0

    async def worker() -> None:
        nonlocal issued, errors
        while issued < total:
            issued += 1
            body = body_for(issued)
            started = time.perf_counter()
            try:
                async with session.post(url, json=body) as response:
                    await response.read()
                    ok = response.status in (200, 201, 202)
            except OSError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += 0 if ok else 1

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return {
        "turns": len(latencies),
        "errors": errors,
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


async def bench(targets: list[str], requests: int) -> list[dict]:
    import aiohttp

    rows = []
    channel_port = free_port()
    with child("channel", channel_port) as channel:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
            await wait_until_up(session, f"http://127.0.0.1:{channel_port}/stats", channel)
            service_url = f"http://127.0.0.1:{channel_port}/"
            summary = []
            for target in targets:
                before = await channel_stats(session, channel_port)
                port = free_port()
                with child(target, port) as server:
                    await wait_until_up(session, f"http://127.0.0.1:{port}/healthz", server)
                    url = f"http://127.0.0.1:{port}/api/messages"
                    text = TEXT[target]

                    def body_for(i: int) -> dict:
                        return activity(text, service_url, f"a:bench-{i % 64}")

                    await drive(session, url, body_for, 4, 40)  # warm-up: imports, caches, pools
                    for concurrency in CONCURRENCY:
                        total = max(requests, concurrency * 10)
                        row = {"target": target, "concurrency": concurrency, **await drive(session, url, body_for, concurrency, total)}
                        rows.append(row)
                        print(format_row(row), flush=True)
                after = await channel_stats(session, channel_port)
                summary.append(
                    f"{target}: {after['replies'] - before['replies']} replies on "
                    f"{after['connections'] - before['connections']} TCP connections"
                )
    print("channel server: " + "; ".join(summary))
    return rows


async def channel_stats(session, port: int) -> dict:
    async with session.get(f"http://127.0.0.1:{port}/stats") as response:
        return await response.json()


def format_row(row: dict) -> str:
    return (
        f"| {row['target']:<10} | {row['concurrency']:>3} | {row['turns_per_s']:>8.1f} | {row['p50_ms']:>7.1f} | "
        f"{row['p95_ms']:>7.1f} | {row['p99_ms']:>7.1f} | {row['errors']:>6} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", choices=sorted(SERVERS))
    parser.add_argument("--port", type=int)
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", "400")))
    parser.add_argument("--targets", nargs="*", default=list(TARGETS), choices=TARGETS)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if args.serve:
        SERVERS[args.serve](args.port)
        return 0
    print(f"bench_turns: {args.requests} turns per level, {os.cpu_count()} CPUs, loopback channel server")
    print("| target     | conc | turns/s  | p50 ms  | p95 ms  | p99 ms  | errors |")
    print("|------------|------|----------|---------|---------|---------|--------|")
    rows = asyncio.run(bench(args.targets, args.requests))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
