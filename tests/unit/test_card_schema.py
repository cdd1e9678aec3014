"""Every Adaptive Card the bot can send is valid for Teams, and every button on it works.

The cards are produced by driving the real bot over HTTP, as Teams would: install (welcome),
typed messages (help, topics, who to contact, a "did you mean", an "I don't know"), then a crawl
that clicks every ``Action.Submit`` it finds (every topic, every FAQ answer and its related
questions and feedback buttons, every referral need and route), and a walk of the disclosure guide
that clicks every answer on every step in context. The crawl runs twice: without and with the
organisation's local contacts (the example file), because those add cards of their own.

Each distinct card is then parsed by the official ``adaptivecards`` npm library in Node with a
schema 1.5 serialization context (tests/support/validate_cards.cjs), and each click's reply is
checked: HTTP 200, a message back, and never the turn-error apology.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from app import create_app
from bot.settings import Settings
from knowledge.loader import Knowledge, load_knowledge
from tests.conftest import OFFICE_HOURS, activity, cards, reply_texts
from tests.support.cards import submit_actions

REPO = Path(__file__).resolve().parents[2]
VALIDATOR = REPO / "tests" / "support" / "validate_cards.cjs"
CARDS_LIBRARY = REPO / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.js"
EXAMPLE_CONTACTS = REPO / "deployment" / "local-contacts.example.yaml"
EVAL_FILES = (REPO / "tests" / "eval" / "questions.yaml", REPO / "tests" / "eval" / "dev_out_of_scope.yaml")
BOT = {"id": "28:safeguarding-bot", "name": "Safeguarding bot"}
MAX_FLOW_STATES = 400
MAX_CLICKS = 2000


def key(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def submit_data(card: dict) -> list[dict]:
    """The data of every Action.Submit in a card, including those inside ShowCard cards."""
    return [action["data"] for action in submit_actions(card)]


UNSURE_999 = "If a child is in immediate danger, call 999 now."


def heading_of(card: dict) -> str:
    """The card's first text, after the 999 line an unsure reply starts with (issue 12)."""
    body = [b for b in card.get("body") or [] if b.get("text") != UNSURE_999] or [{}]
    return body[0].get("text", "") if body[0].get("type") == "TextBlock" else ""


@dataclass
class Crawl:
    """What driving the bot produced: distinct cards by name, and clicks that did not work."""

    knowledge: Knowledge
    cards: dict[str, tuple[str, dict]] = field(default_factory=dict)
    clicked: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    headings: set[str] = field(default_factory=set)
    clicks: int = 0
    flow_paths: int = 0

    def record(self, name: str, payload: dict) -> list[dict]:
        found = cards(payload)
        for card in found:
            self.cards.setdefault(key(card), (name, card))
            self.headings.add(heading_of(card))
        return found

    def check_reply(self, what: str, status: int, payload: dict) -> None:
        if status != 200:
            self.failures.append(f"{what}: HTTP {status}")
            return
        texts = reply_texts(payload)
        if not texts:
            self.failures.append(f"{what}: no reply")
        apology = self.knowledge.messages.text("turn_error")
        if any(apology in text for text in texts):
            self.failures.append(f"{what}: turn error")


class Driver:
    def __init__(self, client: TestClient, crawl: Crawl) -> None:
        self.client = client
        self.crawl = crawl

    async def post(self, body: dict) -> tuple[int, dict]:
        response = await self.client.post("/api/messages", json=body)
        payload = await response.json() if response.status == 200 else {}
        return response.status, payload


def texts_with_outcome(knowledge: Knowledge, outcome: str) -> list[str]:
    """Eval questions the matcher answers with this outcome (found afresh, so content can change)."""
    found = []
    for path in EVAL_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for section in data.values() if isinstance(data, dict) else [data]:
            for item in section if isinstance(section, list) else []:
                text = item.get("text") if isinstance(item, dict) else None
                if text and knowledge.matcher.match(text).outcome == outcome:
                    found.append(text)
    return found


async def crawl_bot(knowledge: Knowledge) -> Crawl:
    crawl = Crawl(knowledge)
    async with TestClient(TestServer(create_app(Settings.from_env({}), knowledge))) as client:
        driver = Driver(client, crawl)
        pending: deque[tuple[str, dict]] = deque()

        def discover(name: str, found: list[dict]) -> None:
            for card in found:
                for data in submit_data(card):
                    pending.append((name, data))

        # Install in a personal chat and in a team: the welcome.
        for kind, conversation_type in (("installationUpdate", "personal"), ("conversationUpdate", "channel")):
            body = activity(None, type=kind, conversation_type=conversation_type, action="add",
                            membersAdded=[BOT], recipient=BOT)
            status, payload = await driver.post(body)
            crawl.check_reply(f"install ({kind})", status, payload)
            discover(f"welcome:{conversation_type}", crawl.record(f"welcome:{conversation_type}", payload))

        # Typed messages, including one "did you mean" and one "I don't know" found from the eval set.
        typed = ["help", "topics", "who to contact", "a child has just disclosed", "a pupil told me something"]
        for outcome, wanted in (("suggest", "Did you mean…"), ("unknown", "I don't know that one")):
            for text in texts_with_outcome(knowledge, outcome)[:25]:
                status, payload = await driver.post(activity(text))
                if any(heading_of(card) == wanted for card in cards(payload)):
                    typed.append(text)
                    break
        for text in typed:
            status, payload = await driver.post(activity(text))
            crawl.check_reply(f"typed {text!r}", status, payload)
            discover(f"typed:{text}", crawl.record(f"typed:{text}", payload))

        # Buttons that no card shows today but the bot's card verbs accept: every need and route.
        now = OFFICE_HOURS
        for need in knowledge.directory.needs():
            pending.append(("seed", {"action": "referrals", "need": need.id}))
        for item in knowledge.directory.all_routes(now).items:
            pending.append(("seed", {"action": "route", "id": item.route.id}))
        pending.append(("seed", {"action": "help"}))

        # Click every button once, each in a fresh conversation (a button in an old message).
        while pending and crawl.clicks < MAX_CLICKS:
            source, data = pending.popleft()
            if key(data) in crawl.clicked:
                continue
            crawl.clicked.add(key(data))
            crawl.clicks += 1
            status, payload = await driver.post(activity(value=data))
            crawl.check_reply(f"click {data} (from {source})", status, payload)
            name = f"click:{data.get('action')}:{data.get('id') or data.get('topic') or data.get('need') or ''}"
            discover(name, crawl.record(name, payload))

        await walk_disclosure_guide(driver, crawl)
    return crawl


async def walk_disclosure_guide(driver: Driver, crawl: Crawl) -> None:
    """Breadth-first through the guide: replay a path of clicks in a fresh conversation, then try
    every button on the card it ends on. Each distinct card is expanded once."""
    expanded: set[str] = set()
    paths: deque[list[dict]] = deque([[]])
    states = 0
    while paths and states < MAX_FLOW_STATES:
        path = paths.popleft()
        states += 1
        crawl.flow_paths = states
        conversation_id = f"a:flow-{states}"
        status, payload = await driver.post(activity(value={"action": "disclosure_start"}, conversation_id=conversation_id))
        crawl.check_reply("start the disclosure guide", status, payload)
        for data in path:
            status, payload = await driver.post(activity(value=data, conversation_id=conversation_id))
            crawl.check_reply(f"guide click {data} after {len(path)} steps", status, payload)
        name = "flow:" + ">".join(str(d.get("choice")) for d in path)
        found = crawl.record(name, payload)
        for card in found:
            if key(card) in expanded:
                continue
            expanded.add(key(card))
            for data in submit_data(card):
                if data.get("action") == "flow":
                    paths.append(path + [data])


@pytest.fixture(scope="module")
def crawls(knowledge, model_cache: Path) -> dict[str, Crawl]:
    plain = knowledge
    local = load_knowledge(local_contacts_path=EXAMPLE_CONTACTS, clock=lambda: OFFICE_HOURS, model_cache_dir=model_cache)
    return {"national only": asyncio.run(crawl_bot(plain)), "with local contacts": asyncio.run(crawl_bot(local))}


def run_validator(tmp_path: Path, items: list[dict]) -> list[dict]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the Adaptive Cards check runs in Node (install Node.js 20+)")
    if not CARDS_LIBRARY.exists():
        pytest.fail("node_modules/adaptivecards is missing: run `make npm` (make test does it)")
    cards_file = tmp_path / "cards.json"
    cards_file.write_text(json.dumps(items), encoding="utf-8")
    result = subprocess.run(
        ["node", str(VALIDATOR), str(cards_file)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_card_passes_the_adaptive_cards_library_at_schema_1_5(crawls, tmp_path):
    items = [
        {"name": f"{variant} / {name}", "card": card}
        for variant, crawl in crawls.items()
        for name, card in crawl.cards.values()
    ]
    report = run_validator(tmp_path, items)
    assert len(report) == len(items)
    invalid = {entry["name"]: entry["problems"] for entry in report if entry["problems"]}
    assert invalid == {}


def test_validator_finds_what_teams_would_not_render(tmp_path):
    bad = {
        "type": "AdaptiveCard",
        "version": "1.6",
        "body": [{"type": "Carousel"}, {"type": "TextBlock", "text": "x", "color": "Pink"}],
        "actions": [{"type": "Action.Submit", "title": "a", "data": {"action": "help"}}, {"type": "Action.Popover"}],
    }
    good = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "fine", "wrap": True}]}
    report = {entry["name"]: entry["problems"] for entry in run_validator(tmp_path, [
        {"name": "bad", "card": bad}, {"name": "good", "card": good}
    ])}
    assert report["good"] == []
    problems = "\n".join(report["bad"])
    assert "above 1.5" in problems
    assert "Carousel" in problems
    assert "Pink" in problems
    assert "Action.Popover" in problems


@pytest.mark.parametrize("variant", ["national only", "with local contacts"])
def test_every_button_round_trips_to_a_reply(crawls, variant):
    crawl = crawls[variant]
    assert crawl.clicks < MAX_CLICKS, "crawl did not finish"
    assert 0 < crawl.flow_paths < MAX_FLOW_STATES, "walk of the guide did not finish"
    assert crawl.failures == []


@pytest.mark.parametrize("variant", ["national only", "with local contacts"])
def test_crawl_reached_every_kind_of_card(crawls, variant):
    crawl = crawls[variant]
    knowledge = crawl.knowledge
    clicked = [json.loads(data) for data in crawl.clicked]

    answered = {d["id"] for d in clicked if d.get("action") == "faq"}
    assert answered == {entry.id for entry in knowledge.faq.entries}, "every FAQ answer"
    topics = {d["topic"] for d in clicked if d.get("action") == "topic"}
    assert topics == {topic.id for topic in knowledge.faq.topics}, "every topic"
    needs = {d.get("need") for d in clicked if d.get("action") == "referrals"}
    assert needs >= {need.id for need in knowledge.directory.needs()} | {None}, "every need, and all routes"
    assert any(d.get("action") == "feedback" for d in clicked)

    step_titles = {knowledge.flow.step(step_id).title for step_id in knowledge.flow.step_ids}
    assert step_titles <= crawl.headings, f"guide steps never shown: {step_titles - crawl.headings}"
    for heading in ("Online child sexual abuse: practitioner guide", "What I can help with", "Did you mean…",
                    "I don't know that one", "Who to contact"):
        assert heading in crawl.headings


def test_local_contacts_add_cards_of_their_own(crawls):
    national = {name for name, _ in crawls["national only"].cards.values()}
    local = {name for name, _ in crawls["with local contacts"].cards.values()}
    assert local - national, "the local crawl should show local routes"
