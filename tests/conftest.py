"""Shared fixtures: the real knowledge, the real app through aiohttp's test client, and
Bot Framework activities shaped like the ones Teams sends."""

from __future__ import annotations

import os
import re
import signal
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app import create_app
from bot.settings import Settings
from knowledge.loader import Knowledge, load_knowledge
from tests.support.processes import Processes, living_descendants

UK = ZoneInfo("Europe/London")
# A Wednesday mid-morning that is not a bank holiday: office hours everywhere.
OFFICE_HOURS = datetime(2026, 11, 25, 10, 30, tzinfo=UK)


# ------------------------------------------------------------------ processes the tests start


@pytest.fixture
def processes() -> Iterator[Processes]:
    """``processes.start([...], **popen_args)``: a child in its own process group, stopped (with
    everything it started) when the test ends, pass or fail."""
    started = Processes()
    try:
        yield started
    finally:
        started.stop_all()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any process a test started is still alive (then stop it, by its id)."""
    alive = living_descendants()
    if alive:
        for pid, _ in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        listing = "\n".join(f"  pid {pid}: {command[:200]}" for pid, command in alive)
        session.config._orphans = listing  # type: ignore[attr-defined]
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    _fail_ci_on_skips(session)


# ------------------------------------------------------------------ skips

#: Skips CI accepts: tests that cannot run on a machine without the privilege or the kernel
#: feature they test. Anything else skipped in CI (Node missing, the shared folder missing, ...)
#: is something CI can provide, so it fails the run. Each entry: a regex of the skip's reason.
CI_ALLOWED_SKIPS = (
    re.compile(r"unshare -n -m needs root"),  # network namespaces: root or user namespaces only
    re.compile(r"no /proc/net/tcp on this system"),  # not Linux
)

_skips: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        _skips.append((report.nodeid, reason.removeprefix("Skipped: ")))


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _fail_ci_on_skips(session: pytest.Session) -> None:
    if not in_ci():
        return
    refused = [(test, why) for test, why in _skips if not any(p.search(why) for p in CI_ALLOWED_SKIPS)]
    if refused:
        session.config._refused_skips = refused  # type: ignore[attr-defined]
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _skips:
        terminalreporter.section("skipped, and why")
        for test, why in _skips:
            terminalreporter.write_line(f"{test}: {why}")
    refused = getattr(config, "_refused_skips", [])
    if refused:
        terminalreporter.section("CI: skipped tests that CI can run (the run fails)", red=True)
        for test, why in refused:
            terminalreporter.write_line(f"{test}: {why}", red=True)
        terminalreporter.write_line(
            "Provide what they need (see the README's Testing section: Node.js, npm tools, SHARED_DIR), "
            "or, if a test truly cannot run on a CI machine, add its reason to CI_ALLOWED_SKIPS in tests/conftest.py."
        )
    orphans = getattr(config, "_orphans", "")
    if orphans:
        terminalreporter.section("processes still running after the tests (stopped now; the run fails)", red=True)
        terminalreporter.write_line(orphans, red=True)


# ------------------------------------------------------------------ knowledge


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One trained FAQ classifier for the whole run, shared with the bot processes the tests
    start (they inherit BOT_MODEL_CACHE_DIR), so each loads it instead of training for seconds;
    the user's own cache directory is left alone."""
    cache = tmp_path_factory.mktemp("model-cache")
    before = os.environ.get("BOT_MODEL_CACHE_DIR")
    os.environ["BOT_MODEL_CACHE_DIR"] = str(cache)
    yield cache
    if before is None:
        os.environ.pop("BOT_MODEL_CACHE_DIR", None)
    else:
        os.environ["BOT_MODEL_CACHE_DIR"] = before


#: Where each trained artefact of the shipped content came from when the session loaded it:
#: "build" when build/artefacts (made by `make test`) matches the content as it is now.
SHIPPED_ARTEFACTS: dict[str, str] = {}


@pytest.fixture(scope="session", autouse=True)
def knowledge(model_cache: Path) -> Knowledge:
    from knowledge import artefacts

    before = set(artefacts.sources)
    loaded = load_knowledge(clock=lambda: OFFICE_HOURS, model_cache_dir=model_cache)
    SHIPPED_ARTEFACTS.update({name: how for name, how in artefacts.sources.items() if name not in before})
    return loaded


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env({})


@pytest.fixture
def make_app(knowledge):
    def factory(settings: Settings | None = None, **kwargs):
        return create_app(settings or Settings.from_env({}), knowledge, **kwargs)

    return factory


@pytest.fixture
async def channel(aiohttp_server):
    """Teams' side for normal delivery: replies are POSTed here, as the Bot Connector receives them."""
    from tests.http.support import ChannelRecorder

    recorder = ChannelRecorder()
    server = await aiohttp_server(recorder.app(), host="127.0.0.1")
    recorder.url = str(server.make_url("/"))
    return recorder


@pytest.fixture
async def client(aiohttp_client, make_app):
    return await aiohttp_client(make_app())


def activity(
    text: str | None = None,
    *,
    conversation_id: str | None = None,
    value: Any = None,
    channel_id: str = "msteams",
    conversation_type: str = "personal",
    expect_replies: bool = True,
    tenant_id: str = "tenant-test",
    **extra: Any,
) -> dict:
    """A Teams-shaped message activity (as Teams posts it), replies returned in the response."""
    body: dict[str, Any] = {
        "type": "message",
        "id": str(uuid.uuid4()),
        "timestamp": "2026-11-25T10:30:00.000Z",
        "channelId": channel_id,
        "serviceUrl": "http://127.0.0.1:9/",
        "from": {"id": "29:user-1", "name": "Practitioner", "aadObjectId": "00000000-0000-0000-0000-000000000001"},
        "recipient": {"id": "28:safeguarding-bot", "name": "Safeguarding bot"},
        "conversation": {
            "id": conversation_id or f"a:conv-{uuid.uuid4()}",
            "conversationType": conversation_type,
            "tenantId": tenant_id,
        },
        "channelData": {"tenant": {"id": tenant_id}},
        "locale": "en-GB",
    }
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    if expect_replies:
        body["deliveryMode"] = "expectReplies"
    body.update(extra)
    return body


def reply_texts(payload: dict) -> list[str]:
    """What the user sees, in order: each message's text, or its card rendered as text."""
    from bot.cards.common import card_to_text

    out = []
    for item in payload.get("activities", []):
        if item.get("type") != "message":
            continue
        if item.get("text"):
            out.append(item["text"])
        for attachment in item.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                out.append(card_to_text(attachment["content"])[0])
    return out


def cards(payload: dict) -> list[dict]:
    return [
        attachment["content"]
        for item in payload.get("activities", [])
        for attachment in item.get("attachments") or []
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


async def send(client, body: dict) -> dict:
    response = await client.post("/api/messages", json=body)
    assert response.status == 200, await response.text()
    return await response.json()
