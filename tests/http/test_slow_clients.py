"""Slow clients (issue 16, item 8), on the server app.main() runs: sockets that trickle their
headers are closed once the header timeout passes, a trickled body gets a 408, the number of open
connections is capped (oldest idle closed first), and real traffic is served throughout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest

from bot.serving import ServerLimits
from bot.settings import Settings
from tests.http.support import HardenedTestServer, message, stand_in_app

TRICKLERS = 500
HEAD = b"POST /api/messages HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"


async def open_tricklers(port: int, count: int) -> list[asyncio.StreamWriter]:
    writers = []
    for _ in range(count):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HEAD)
        writers.append(writer)
    return writers


async def trickle(writers: list[asyncio.StreamWriter], stop: asyncio.Event) -> None:
    """One header byte per socket every 0.5 s: always sending, never finishing."""
    while not stop.is_set():
        for writer in writers:
            if not writer.is_closing():
                with contextlib.suppress(ConnectionError, RuntimeError):
                    writer.write(b"X")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


def still_open(server) -> int:
    return len(server.runner.server.connections)


async def wait_until(condition, bound: float) -> float:
    started = time.monotonic()
    while not condition() and time.monotonic() - started < bound:
        await asyncio.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture
async def make_server():
    started = []

    async def make(limits: ServerLimits | None = None, settings: Settings | None = None) -> HardenedTestServer:
        server = HardenedTestServer(stand_in_app(settings), limits=limits)
        await server.start_server()
        started.append(server)
        return server

    yield make
    for server in started:
        await server.close()


@pytest.fixture
def sockets():
    opened: list[asyncio.StreamWriter] = []
    yield opened
    for writer in opened:
        writer.transport.abort()


async def good_request(port: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps(message("hello", expect_replies=True)).encode()
    writer.write(HEAD + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
    answer = await asyncio.wait_for(reader.read(), 20)
    writer.close()
    return int(answer.split(b" ", 2)[1])


async def test_trickled_headers_are_cut_off_at_the_header_timeout(make_server, sockets):
    limits = ServerLimits()  # production values: 10 s for headers
    server = await make_server(limits)
    sockets.extend(await open_tricklers(server.port, TRICKLERS))
    stop = asyncio.Event()
    feeder = asyncio.create_task(trickle(sockets, stop))
    try:
        await wait_until(lambda: still_open(server) >= TRICKLERS, 20)
        held_at_start = still_open(server)
        opened_at = time.monotonic()
        assert await good_request(server.port) == 200, "real traffic is served during the attack"
        await wait_until(lambda: still_open(server) == 0, limits.header_timeout_seconds + 30)
        cut_after = time.monotonic() - opened_at
        held = still_open(server)
    finally:
        stop.set()
        await feeder
    print(f"\nslow headers: {held_at_start} trickling sockets held, {held} still held after {cut_after:.1f} s "
          f"(header timeout {limits.header_timeout_seconds:.0f} s)")
    assert held_at_start == TRICKLERS
    assert held == 0
    assert cut_after <= limits.header_timeout_seconds + 5


async def test_a_trickled_body_gets_a_408(make_server, sockets):
    server = await make_server(settings=Settings(body_timeout_seconds=1.0))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    sockets.append(writer)
    writer.write(HEAD + b"Content-Length: 1000\r\n\r\n{")
    stop = asyncio.Event()
    feeder = asyncio.create_task(trickle([writer], stop))
    try:
        answer = await asyncio.wait_for(reader.read(), 15)
    finally:
        stop.set()
        await feeder
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {"error": "request body took too long to arrive"}


async def test_open_connections_are_capped_and_real_traffic_still_gets_in(make_server, sockets):
    limits = ServerLimits(max_connections=50)
    server = await make_server(limits)
    sockets.extend(await open_tricklers(server.port, 120))
    peak = 0
    for _ in range(40):
        peak = max(peak, still_open(server))
        await asyncio.sleep(0.02)
    assert peak <= limits.max_connections + 1  # + the one being let in while the oldest closes
    assert await good_request(server.port) == 200
    assert server.runner.server.closed_for_room >= 120 - limits.max_connections
    print(f"\nconnection cap: 120 idle sockets opened, at most {peak} held (cap {limits.max_connections})")
