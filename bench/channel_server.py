"""A local stand-in for the Bot Connector: receives the bot's replies, counts them and the TCP
connections they came on, and can be slow on purpose (for the load test's "one slow serviceUrl").

Run on its own: ``python bench/channel_server.py --port 9100 [--delay-ms 0]``. Paths under
``/slow/`` wait ``--slow-delay-ms`` before answering, so one process serves a healthy and a slow
serviceUrl. ``GET /stats`` returns the counters. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

STATS = web.AppKey("stats", dict)
DELAYS = web.AppKey("delays", dict)


def make_channel_app(delay_ms: float = 0.0, slow_delay_ms: float = 2000.0) -> web.Application:
    app = web.Application()
    app[STATS] = {"replies": 0, "slow_replies": 0, "connections": 0}
    app[DELAYS] = {"normal": delay_ms / 1000, "slow": slow_delay_ms / 1000}
    seen_transports: set[int] = set()

    async def reply(request: web.Request) -> web.Response:
        stats = request.app[STATS]
        transport = id(request.transport)
        if transport not in seen_transports:
            seen_transports.add(transport)
            stats["connections"] += 1
        slow = request.path.startswith("/slow/")
        delay = request.app[DELAYS]["slow" if slow else "normal"]
        if delay:
            await asyncio.sleep(delay)
        await request.read()
        stats["slow_replies" if slow else "replies"] += 1
        return web.json_response({"id": f"r{stats['replies'] + stats['slow_replies']}"})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(request.app[STATS])

    for prefix in ("", "/slow"):
        app.router.add_post(prefix + "/v3/conversations/{conversation}/activities", reply)
        app.router.add_post(prefix + "/v3/conversations/{conversation}/activities/{activity}", reply)
    app.router.add_get("/stats", stats)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--slow-delay-ms", type=float, default=2000.0)
    args = parser.parse_args()
    web.run_app(make_channel_app(args.delay_ms, args.slow_delay_ms), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
