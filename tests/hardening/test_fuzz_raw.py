"""Fuzz the HTTP framing itself (issue 16): seeded raw requests to the real app on the server
app.main() runs, each carrying a canary in its message text: wrong and duplicate Content-Lengths,
chunking errors, content codings, control characters and flipped bytes in the request line and
headers, oversized headers. Zero 5xx, zero tracebacks, zero canary hits in any response or log
record, nothing logged at ERROR. ``FUZZ_RAW_CASES`` / ``FUZZ_SEED`` lengthen or vary it (make fuzz)."""

from __future__ import annotations

import collections
import gzip
import json
import logging
import os
import random
import uuid

import pytest

from tests.conftest import activity
from tests.http.support import HardenedTestServer, raw_exchange

CI_CASES = 40


def raw_case(rng: random.Random, canary: str) -> tuple[str, bytes, bool]:
    """(kind, bytes, half_close)."""
    body = json.dumps(activity(f"a pupil told me {canary}")).encode()
    headers = [("Host", "bot"), ("Content-Type", "application/json"), ("Connection", "close")]
    kind = rng.choice(["short_length", "long_length", "two_lengths", "chunked_bad", "length_and_chunked",
                       "encoding", "flipped_byte", "control_in_header", "bad_request_line", "huge_header", "ok"])
    length = len(body)
    half_close = False
    if kind == "short_length":
        length = rng.randrange(0, len(body))
    elif kind == "long_length":
        length = len(body) + rng.randrange(1, 500)
        half_close = True
    elif kind == "two_lengths":
        headers.append(("Content-Length", str(rng.randrange(0, 2 * len(body)))))
    elif kind == "encoding":
        coding = rng.choice(["gzip", "br", "deflate", "zstd", "x-canary", "gzip, br"])
        headers.append(("Content-Encoding", coding))
        if coding == "gzip" and rng.random() < 0.5:
            body = gzip.compress(body)
            length = len(body)
    elif kind == "control_in_header":
        headers.append((f"X-{canary}", f"{canary}{chr(rng.randrange(0, 32))}{canary}"))
    elif kind == "huge_header":
        headers.append(("X-Note", canary * rng.randrange(300, 3000)))
    head = "POST /api/messages HTTP/1.1\r\n" if kind != "bad_request_line" else f"POST /{canary} HTTP/{rng.choice(['1.1 x', '9', 'x'])}\r\n"
    if kind == "chunked_bad":
        headers.append(("Transfer-Encoding", "chunked"))
        data = (head + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode()
        return kind, data + f"{rng.choice(['zz', '-1', 'ffffffffffffffffff', '5;' + canary])}\r\n".encode() + body + b"\r\n0\r\n\r\n", False
    if kind == "length_and_chunked":
        headers.append(("Transfer-Encoding", "chunked"))
    headers.append(("Content-Length", str(length)))
    data = (head + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode() + body
    if kind == "flipped_byte":
        data = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(0, data.index(b"\r\n\r\n"))] = rng.randrange(0, 256)
        data = bytes(data)
    return kind, data, half_close


@pytest.fixture
async def server(make_app):
    running = HardenedTestServer(make_app())
    await running.start_server()
    yield running
    await running.close()


async def test_raw_framing_fuzz(server, caplog):
    count = int(os.environ.get("FUZZ_RAW_CASES", CI_CASES))
    seed = int(os.environ.get("FUZZ_SEED", "20261202"))
    rng = random.Random(seed)
    canary = f"CANARY{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)
    statuses: collections.Counter = collections.Counter()
    failures = []
    for index in range(count):
        kind, data, half_close = raw_case(rng, canary)
        answer = await raw_exchange(server.port, data, half_close=half_close, timeout=12)
        for part in answer.split(b"HTTP/1.1 ")[1:]:
            status = int(part[:3]) if part[:3].isdigit() else 0
            statuses[status] += 1
            if status >= 500 and b"no such invoke" not in part:
                failures.append((index, kind, status))
        if not answer:
            statuses["closed"] += 1
        if canary.encode() in answer or b"Traceback" in answer:
            failures.append((index, kind, "echoed"))
    canary_hits = sum(1 for r in caplog.records if canary in json.dumps(vars(r), default=str))
    errors = [(r.getMessage(), getattr(r, "error_type", "")) for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    print(f"\nraw fuzz: {count} cases (seed {seed}); answers {dict(statuses)}; canary hits in logs {canary_hits}; "
          f"errors logged {len(errors)}")
    assert not failures, failures[:10]
    assert canary_hits == 0
    assert not errors, errors[:5]
