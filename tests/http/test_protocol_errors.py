"""Requests aiohttp itself refuses, before any handler runs (issue 16, items 1 and 3): malformed
framing, a Content-Length shorter than the body, a client that goes away mid-body, content
codings. Raw bytes over a real socket to the server ``app.main()`` runs. Every answer is JSON with
fixed text; no request byte reaches a response or a log record; nothing is logged at ERROR."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import uuid

import pytest

from tests.http.support import HardenedTestServer, message, raw_exchange, stand_in_app


def leaks(records, canary: str) -> list[str]:
    found = []
    for record in records:
        text = json.dumps(vars(record), default=str)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        if canary in text:
            found.append(text[:300])
    return found


@pytest.fixture
async def server():
    running = HardenedTestServer(stand_in_app())
    await running.start_server()
    yield running
    await running.close()


def framed(canary: str) -> dict[str, bytes]:
    body = json.dumps(message(f"my pupil {canary} told me")).encode()
    head = "POST /api/messages HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
    return {
        # the red team's case: the rest of the body is parsed as a second request
        "short_content_length": f"{head}Content-Length: 10\r\nConnection: close\r\n\r\n".encode() + body,
        "short_content_length_keep_alive": f"{head}Content-Length: 10\r\n\r\n".encode() + body,
        "bad_request_line": f"POST /api/{canary} HTTP/1.1 {canary}\r\n\r\n".encode(),
        "bad_header_name": f"{head}X-{canary}(: 1\r\nContent-Length: 2\r\n\r\n{{}}".encode(),
        "control_char_in_header": f"{head}X-Note: {canary}\x01\r\nContent-Length: 2\r\n\r\n{{}}".encode(),
        "content_length_and_chunked": f"{head}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n".encode() + body,
        "bad_chunk_size": f"{head}Transfer-Encoding: chunked\r\n\r\nZZ{canary}\r\n".encode() + body,
        "two_content_lengths": f"{head}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{canary}".encode(),
        "header_too_long": f"{head}X-Long: {canary * 400}\r\n\r\n".encode(),
        "not_http": f"{canary} {canary}\r\n\r\n".encode(),
        "http_0_9": f"GET /{canary}\r\n\r\n".encode(),
    }


CASES = list(framed("x"))


@pytest.mark.parametrize("case", CASES)
async def test_malformed_http_gets_json_and_leaves_no_bytes_in_logs(server, caplog, case):
    caplog.set_level(logging.DEBUG)
    canary = f"CANARY{uuid.uuid4().hex}"
    answer = await raw_exchange(server.port, framed(canary)[case])
    assert canary.encode() not in answer
    assert b"Traceback" not in answer
    for head, _, body in [part.partition(b"\r\n\r\n") for part in answer.split(b"HTTP/1.1 ")[1:]]:
        status = int(head.split(b" ", 1)[0])
        assert status < 500, answer[:300]
        assert b"Content-Type: application/json" in head, answer[:300]
        assert b"aiohttp" not in head and b"Python" not in head
        json.loads(body.split(b"HTTP/1.1")[0] or b"{}")
    assert not leaks(caplog.records, canary)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], [
        (r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info
    ]


async def test_a_client_that_goes_away_mid_body_is_not_an_error(server, caplog):
    caplog.set_level(logging.DEBUG)
    canary = f"CANARY{uuid.uuid4().hex}"
    body = json.dumps(message(f"about {canary}")).encode()
    head = f"POST /api/messages HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: {len(body) + 500}\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(head.encode() + body)
    await writer.drain()
    for _ in range(200):  # the server has the request in hand...
        if any(c._request_in_progress for c in server.runner.server.connections):
            break
        await asyncio.sleep(0.01)
    writer.transport.abort()  # ...and the client resets the connection
    for _ in range(500):  # readiness signal: the server has let go of the connection
        if not server.runner.server.connections:
            break
        await asyncio.sleep(0.01)
    assert not server.runner.server.connections
    assert not leaks(caplog.records, canary)
    errors = [(r.name, r.getMessage(), getattr(r, "error_type", "")) for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors


@pytest.mark.parametrize(
    "encoding, data",
    [
        ("gzip", b"\x1f\x8b not really gzip"),
        ("gzip", gzip.compress(json.dumps(message("hello", expect_replies=True)).encode())),
        ("deflate", b"garbage"),
        ("br", b"garbage"),
        ("zstd", b"garbage"),
        ("x-unknown", b"{}"),
    ],
)
async def test_compressed_bodies_get_a_json_415(server, caplog, encoding, data):
    caplog.set_level(logging.DEBUG)
    head = (
        f"POST /api/messages HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f"Content-Encoding: {encoding}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    answer = await raw_exchange(server.port, head.encode() + data)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 415 Unsupported Media Type", answer[:300]
    assert b"application/json" in rest.partition(b"\r\n\r\n")[0]
    assert json.loads(rest.partition(b"\r\n\r\n")[2]) == {"error": "send the activity uncompressed (no Content-Encoding)"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_the_server_header_does_not_name_aiohttp_or_python(server):
    answer = await raw_exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
    head = answer.partition(b"\r\n\r\n")[0]
    assert b"\r\nServer: safeguarding-bot" in head
    assert b"aiohttp" not in head and b"Python" not in head
