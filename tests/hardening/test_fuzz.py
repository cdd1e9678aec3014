"""Fuzz /api/messages of the real app: malformed bodies, wrong content types, garbage tokens,
SSRF serviceUrls and mutated activities of every type. Zero 5xx, zero tracebacks in any body or
log record, zero turn errors. ``FUZZ_CASES`` / ``FUZZ_SEED`` lengthen or vary the run (make fuzz)."""

from __future__ import annotations

import collections
import logging
import os

from tests.hardening.fuzzing import cases
from tests.http.support import ChannelRecorder

CI_CASES = 10_000


async def test_fuzz_never_5xx_never_a_traceback(aiohttp_client, aiohttp_server, make_app, caplog):
    count = int(os.environ.get("FUZZ_CASES", CI_CASES))
    seed = int(os.environ.get("FUZZ_SEED", "20261126"))
    channel = ChannelRecorder()
    channel_server = await aiohttp_server(channel.app())
    client = await aiohttp_client(make_app())
    caplog.set_level(logging.INFO)

    statuses: collections.Counter[int] = collections.Counter()
    failures = []
    for index, case in cases(seed, count, str(channel_server.make_url("/"))):
        response = await client.post("/api/messages", data=case.data, headers=case.headers)
        body = await response.text()
        statuses[response.status] += 1
        # 501 is the Bot Framework protocol's answer to an invoke the bot does not implement.
        unhandled_invoke = response.status == 501 and "no such invoke" in body
        if (response.status >= 500 and not unhandled_invoke) or "Traceback" in body:
            failures.append((index, case.kind, response.status, body[:200]))
        if len(caplog.records) > 5000:
            check_records(caplog.records, failures, index)
            caplog.clear()
    check_records(caplog.records, failures, count)

    print(f"\nfuzz: {count} cases (seed {seed}); statuses {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) == count
    kinds = collections.Counter(failure[1:] if failure[1] == "log" else failure[1:3] for failure in failures)
    for kind, seen in kinds.most_common():
        print("FAIL", seen, kind)
    assert not failures, kinds.most_common(10)
    assert statuses[200] + statuses[201] > count // 4, "a good share of the cases must run a whole turn"


def check_records(records, failures, index) -> None:
    for record in records:
        if record.exc_info or record.levelno >= logging.ERROR or "Traceback" in record.getMessage():
            failures.append(
                (index, "log", record.getMessage(), getattr(record, "error_type", ""), getattr(record, "error_at", ""))
            )
