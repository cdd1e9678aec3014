"""The bot in Microsoft 365 Agents Playground, a real Teams-shaped client.

`make playground`'s launcher starts the bot (app.py) and the playground (from node_modules, under
the loopback preload) on free ports; the test then uses the playground's own HTTP and WebSocket
API, the one its web page uses: conversation ids from ``GET /_internal/v1/config``, installs via
``POST /_debug/conversation/{id}/installation``, messages via
``POST /_conversation/v1/conversations/{id}/messages`` (with ``mentions`` in shared
conversations), card clicks via ``POST /_conversation/v1/submit``, and the bot's replies as they
arrive on ``ws://.../_ws_conversation/v1/conversations/stream``. The playground relays each
activity to the bot exactly as Teams would (channelId msteams, tenant in channelData, no auth).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Callable

import aiohttp
import pytest

from tests.support.cards import submit_actions

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

from playground import PLAYGROUND_CLI, PlaygroundSession, free_port  # noqa: E402

REPLY_TIMEOUT_S = 20
CARD = "application/vnd.microsoft.card.adaptive"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: Agents Playground runs on Node.js")


@pytest.fixture(scope="module")
def session():
    if not PLAYGROUND_CLI.exists():
        pytest.fail("Agents Playground is not installed: run `make npm` (make test does it)")
    playground = PlaygroundSession(free_port(), free_port())
    try:
        playground.start()
    except BaseException:
        playground.stop()
        raise
    try:
        yield playground
    finally:
        playground.stop()
    assert playground.bot.poll() is not None and playground.playground.poll() is not None, "both stopped"


def heading(card: dict) -> str:
    body = card.get("body") or [{}]
    return body[0].get("text", "")


def submits(card: dict) -> list[tuple[str, dict]]:
    return [(action["title"], action["data"]) for action in submit_actions(card)]


class Client:
    """The playground's API as its web page uses it, with every bot message collected from the
    WebSocket stream."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base
        self.messages: list[tuple[str, dict]] = []  # (conversation id, message)
        self.arrived = asyncio.Condition()
        self.config: dict = {}
        self._reader: asyncio.Task | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def open(self) -> "Client":
        async with self.http.get(f"{self.base}/_internal/v1/config") as response:
            assert response.status == 200
            self.config = (await response.json())["config"]
        ws_url = self.base.replace("http://", "ws://") + "/_ws_conversation/v1/conversations/stream"
        self._ws = await self.http.ws_connect(ws_url)
        self._reader = asyncio.create_task(self._read())
        return self

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                pass
        if self._ws:
            await self._ws.close()

    async def _read(self) -> None:
        async for frame in self._ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            event = frame.json()
            if event.get("action") == "createMessage":
                async with self.arrived:
                    self.messages.append((event["actionConversationId"], event["message"]))
                    self.arrived.notify_all()

    @property
    def user(self) -> str:
        return self.config["currentUser"]["id"]

    @property
    def bot(self) -> dict:
        return self.config["bot"]

    def mark(self) -> int:
        return len(self.messages)

    async def wait_for(
        self, since: int, predicate: Callable[[str, dict], bool], what: str
    ) -> tuple[str, dict]:
        """The first bot message after ``since`` that matches; fails after a bounded wait."""

        def found():
            return next(((c, m) for c, m in self.messages[since:] if predicate(c, m)), None)

        async with self.arrived:
            try:
                await asyncio.wait_for(self.arrived.wait_for(lambda: found() is not None), REPLY_TIMEOUT_S)
            except TimeoutError:
                seen = [describe(m) for _, m in self.messages[since:]]
                pytest.fail(f"no reply {what} within {REPLY_TIMEOUT_S}s; the bot sent: {seen}")
            return found()

    async def install(self, conversation_id: str) -> None:
        async with self.http.post(f"{self.base}/_debug/conversation/{conversation_id}/installation", json={}) as r:
            assert r.status == 200, await r.text()

    async def say(self, conversation_id: str, text: str, *, mention: bool = False) -> dict:
        body: dict = {"from": {"id": self.user}, "text": text, "textFormat": "plain"}
        if mention:
            tag = f"<at>{self.bot['name']}</at>"
            body["text"] = f"{tag} {text}"
            body["mentions"] = [{"mentioned": {"id": self.bot["id"]}, "text": tag}]
        async with self.http.post(f"{self.base}/_conversation/v1/conversations/{conversation_id}/messages", json=body) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def click(self, conversation_id: str, message: dict, data: dict) -> None:
        body = {
            "conversation": {"id": conversation_id},
            "from": {"id": self.user},
            "replyToId": message["messageId"],
            "value": data,
        }
        async with self.http.post(f"{self.base}/_conversation/v1/submit", json=body) as r:
            assert r.status == 200, await r.text()


def cards_of(message: dict) -> list[dict]:
    return [a["content"] for a in message.get("attachments") or [] if a.get("contentType") == CARD]


def describe(message: dict) -> str:
    return message.get("text") or "; ".join(heading(card) for card in cards_of(message)) or "(empty)"


def card_headed(conversation: str | Callable[[str], bool], title: str):
    def predicate(conv: str, message: dict) -> bool:
        in_conversation = conversation(conv) if callable(conversation) else conv == conversation
        return in_conversation and any(heading(card) == title for card in cards_of(message))

    return predicate


@pytest.fixture
async def client(session):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REPLY_TIMEOUT_S)) as http:
        playground = await Client(http, session.url).open()
        try:
            yield playground
        finally:
            await playground.close()


def only_card(conversation: str, message: dict, title: str) -> dict:
    (card,) = [card for card in cards_of(message) if heading(card) == title]
    return card


async def test_personal_chat_install_question_button_and_disclosure_guide(client, knowledge):
    manifest = json.loads((REPO / "deployment" / "teams" / "manifest.json").read_text(encoding="utf-8"))
    assert client.bot["name"] == manifest["name"]["short"], "the page names the bot as Teams will"
    chat = client.config["personalChat"]["id"]
    welcome_title = "Online child sexual abuse: practitioner guide"

    # Install: the playground sends installationUpdate then conversationUpdate; one welcome.
    since = client.mark()
    await client.install(chat)
    _, welcome = await client.wait_for(since, card_headed(chat, welcome_title), "welcoming the user")
    welcome_card = only_card(chat, welcome, welcome_title)
    assert "not an emergency service" in welcome_card["body"][1]["text"]
    buttons = dict(submits(welcome_card))

    # A question typed in their own words gets the FAQ answer, with its source.
    entry = knowledge.faq.entries[0]
    since = client.mark()
    await client.say(chat, entry.question)
    _, answer = await client.wait_for(since, card_headed(chat, entry.question), f"answering {entry.question!r}")
    answer_card = only_card(chat, answer, entry.question)
    assert any(block.get("text", "").startswith("Source:") for block in answer_card["body"])
    assert ("Helpful", {"action": "feedback", "id": entry.id, "helpful": True}) in submits(answer_card)

    # A card button: "Topics I can help with" on the welcome card.
    since = client.mark()
    await client.click(chat, welcome, buttons["Topics I can help with"])
    _, topics = await client.wait_for(since, card_headed(chat, "What I can help with"), "listing the topics")
    topic_titles = [title for title, _ in submits(only_card(chat, topics, "What I can help with"))]
    assert topic_titles == [topic.title for topic in knowledge.faq.topics]

    # The disclosure guide from the welcome card, then its first answer button, in context.
    flow = knowledge.flow
    first = flow.step(flow.start)
    since = client.mark()
    await client.click(chat, welcome, buttons["A child has just disclosed"])
    _, step_message = await client.wait_for(since, card_headed(chat, first.title), "starting the guide")
    step_card = only_card(chat, step_message, first.title)
    choice = next(c for c in first.choices if c.next and not c.emergency)
    data = next(d for title, d in submits(step_card) if d.get("choice") == choice.id)
    since = client.mark()
    await client.click(chat, step_message, data)
    following = flow.step(choice.next).title
    await client.wait_for(since, card_headed(chat, following), f"moving to the step {following!r}")

    # Only one welcome in this conversation, however many activities the install sent.
    welcomes = [m for c, m in client.messages if c == chat and any(heading(x) == welcome_title for x in cards_of(m))]
    assert len(welcomes) == 1


async def test_channel_with_mention_answers_and_keeps_disclosures_out(client):
    team = client.config["teams"][0]
    channel = team["channels"][0]["id"]

    def in_channel(conversation: str) -> bool:
        return conversation == channel or conversation.startswith(f"{channel};messageid=")

    since = client.mark()
    await client.install(team["id"])
    await client.wait_for(since, card_headed(in_channel, "Online child sexual abuse: practitioner guide"), "welcoming the team")

    since = client.mark()
    await client.say(channel, "topics", mention=True)
    thread, topics = await client.wait_for(
        since, card_headed(in_channel, "What I can help with"), "to an @mention in the channel"
    )

    # A button on that card, clicked in the channel's thread.
    title, data = submits(only_card(thread, topics, "What I can help with"))[0]
    since = client.mark()
    await client.click(thread, topics, data)
    await client.wait_for(since, card_headed(in_channel, title), f"opening the topic {title!r} in the channel")

    since = client.mark()
    await client.say(channel, "a child has just disclosed", mention=True)
    conversation, reply = await client.wait_for(
        since, lambda c, m: in_channel(c) and "personal chat" in (m.get("text") or ""), "offering a personal chat"
    )
    await asyncio.sleep(1)  # anything else the bot sent for this turn has arrived by now
    later = [m for c, m in client.messages[since:] if c == conversation]
    assert not any(d.get("action") == "flow" for m in later for card in cards_of(m) for _, d in submits(card)), (
        "no step of the disclosure guide in a channel"
    )


async def test_group_chat_with_mention(client):
    group = client.config["groupChats"][0]["id"]
    since = client.mark()
    await client.say(group, "help", mention=True)
    _, reply = await client.wait_for(
        since, lambda c, m: c == group and any("not an emergency service" in card["body"][0].get("text", "") for card in cards_of(m)),
        "to help in a group chat",
    )
    assert ("Who to contact", {"action": "referrals"}) in [s for card in cards_of(reply) for s in submits(card)]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on this port (read from /proc, no traffic)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
                found.add(address if width == 32 else ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_bot_and_playground_listen_on_loopback_only(session):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp on this system")
    assert listening_addresses(session.playground_port) == {"127.0.0.1"}
    assert listening_addresses(session.bot_port) == {"127.0.0.1"}


async def test_nothing_typed_is_written_to_a_file(client, session):
    """The playground logs relayed messages to ./devTools/ unless told not to; the launcher tells it."""
    started = time.time() - 1
    canary = f"canary-{uuid.uuid4().hex}"
    chat = client.config["personalChat"]["id"]
    since = client.mark()
    await client.say(chat, f"what is {canary}")
    await client.wait_for(since, lambda c, m: c == chat and bool(cards_of(m) or m.get("text")), "to the canary")
    skip = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache"}
    written = [
        path
        for path in REPO.rglob("*")
        if path.is_file() and not skip & set(path.relative_to(REPO).parts) and path.stat().st_mtime >= started
    ]
    leaked = [str(path) for path in written if canary.encode() in path.read_bytes()]
    assert leaked == []


def test_the_playground_runs_left_dev_null_alone():
    """Runs after the playground tests above: the playground deletes its log path before
    writing, so pointing that at /dev/null once replaced the device with a file (as root)."""
    import os
    import stat

    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
