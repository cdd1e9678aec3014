"""Issue 12, as a practitioner meets it: 999 first, in one tap, and whenever the bot is unsure.

Through the real HTTP app with Teams-shaped activities; each test asserts what the user sees, in
the order they see it.
"""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.safeguarding_bot as safeguarding_bot
from bot.cards import faq as faq_cards
from bot.cards.common import Reply
from bot.cards.general import disclosure_maybe_reply, emergency_reply, with_999_line
from knowledge.matcher import Candidate, MatchResult
from tests.conftest import activity, cards, reply_texts, send

UNSURE = "If a child is in immediate danger, call 999 now."


def first_line(text: str) -> str:
    return text.strip().splitlines()[0]


def first_button(card: dict) -> dict:
    """The first action a person can tap, in reading order (body action sets, then the card's)."""
    for element in card.get("body", []):
        if element.get("type") == "ActionSet" and element.get("actions"):
            return element["actions"][0]
    return card["actions"][0]


# ------------------------------------------------------------------ emergency replies


@pytest.mark.parametrize(
    "text",
    [
        "a year 9 girl has just got into a car with two men none of us know",
        "her abuser is standing at the front door of the flat right now",
        "the man who groomed him is at the school gates now",
        "we cannot find the boy anywhere and he was talking to an adult online",
        "the man is coming to collect her from the park in ten minutes",
        "they told him to pay by 9 tonight or his nudes go to his family",
        "the child has bruises and told me her stepdad did it, he picks her up at 3",
        "he hurt her last night and she has to go home to him after school",
        "the girl does not feel safe at home",
    ],
)
async def test_an_emergency_gets_a_999_card_then_the_routes_then_the_guide(client, text):
    payload = await send(client, activity(text))
    texts = reply_texts(payload)
    [first, *_] = cards(payload)
    assert first_line(texts[0]).startswith("If a child is in immediate danger, call 999 now")
    button = first_button(first)
    assert button["type"] == "Action.OpenUrl" and button["url"] == "tel:999"
    assert texts[1].startswith("A child is at risk right now"), texts[1]  # the directory's need
    # then the guide: its offer, the question that offers it, or (a disclosure) its first step
    last = cards(payload)[-1]
    offered = any(a.get("data", {}).get("action") == "disclosure_start" for a in last.get("actions", []))
    assert offered or texts[-1].startswith("Is the child in immediate danger?"), texts[-1]


async def test_a_definition_question_gets_a_real_answer_not_only_999(client):
    payload = await send(client, activity("what counts as immediate danger?"))
    texts = reply_texts(payload)
    assert not texts[0].startswith("If a child is in immediate danger, call 999 now. Keep")
    assert not any(b.get("url") == "tel:999" for c in cards(payload)[:1] for b in c.get("actions", []))


# ------------------------------------------------------------------ unsure replies


def _result(*entry_ids: str) -> MatchResult:
    return MatchResult(
        outcome="suggest", best=None, suggestions=tuple(Candidate(e, 50.0) for e in entry_ids)
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_every_unsure_reply_builder_puts_the_999_line_first(knowledge, data):
    """Property: whatever the bot is unsure about, the first line it shows is the 999 line.

    The builders are every reply the bot gives when it does not know what a message meant: "did
    you mean", "I don't know that one", "did a child just disclose?", the guide's "didn't catch
    that" (plain text), and the turn-error and too-long texts (plain text, 999 line in the words).
    """
    entries = [e.id for e in knowledge.faq.entries]
    picked = data.draw(st.lists(st.sampled_from(entries), min_size=1, max_size=3, unique=True))
    builders = {
        "did you mean": lambda: faq_cards.suggestions_reply(_result(*picked), knowledge.faq),
        "I don't know": lambda: faq_cards.unknown_reply(knowledge.faq, ["POSH: 0344 381 4772"]),
        "did a child disclose": lambda: disclosure_maybe_reply(
            knowledge.messages.text("disclosure_maybe"), data.draw(st.sampled_from([None, *entries]))
        ),
        "didn't catch that": lambda: Reply.plain(knowledge.flow.messages.not_understood),
        "any plain text": lambda: Reply.plain(data.draw(st.text(min_size=1, max_size=200))),
    }
    for name, build in builders.items():
        reply = with_999_line(build(), knowledge.messages.text("unsure_999"))
        assert first_line(reply.text) == UNSURE, name
        if reply.card is not None:
            assert reply.card["body"][0]["text"] == UNSURE, name
    for key in ("turn_error", "too_long"):
        assert knowledge.messages.text(key).startswith(UNSURE), key


CANDIDATES = [
    "qwzx blorp fnord", "payroll holiday form", "images", "nudes", "phone", "report", "online",
    "signs", "police", "help with a form", "school", "parents", "what now",
]  # fmt: skip


async def test_a_reply_the_bot_is_unsure_of_starts_with_the_999_line(client):
    """Every message here that the matcher is unsure of ("did you mean" or "I don't know")."""
    seen: set[str] = set()
    for text in CANDIDATES:
        first = reply_texts(await send(client, activity(text)))[0]
        for heading in ("Did you mean…", "I don't know that one"):
            if heading in first.splitlines()[:2]:
                seen.add(heading)
                assert first_line(first) == UNSURE, (text, first)
    assert seen == {"Did you mean…", "I don't know that one"}, "the candidates no longer reach both unsure replies"


async def test_the_emergency_card_is_one_tap_from_999():
    card = emergency_reply("If a child is in immediate danger, call 999 now.").card
    assert card is not None and first_button(card) == {"type": "Action.OpenUrl", "title": "Call 999", "url": "tel:999"}


# ------------------------------------------------------------------ in the guide


async def test_mid_guide_the_abuser_waiting_outside_gets_999_first_not_didnt_catch_that(client):
    conversation = f"a:conv-{uuid.uuid4()}"
    await send(client, activity("a child has just told me something", conversation_id=conversation))
    payload = await send(client, activity("the abuser is waiting outside now", conversation_id=conversation))
    texts = reply_texts(payload)
    # the guide's danger step comes first: it says call 999, its first button dials it, and the
    # routes for a child at risk now follow
    assert "call 999" in first_line(texts[0]).lower(), texts
    assert first_button(cards(payload)[0])["url"] == "tel:999"
    assert any(t.startswith("A child is at risk right now") for t in texts[1:])
    assert not any(t.startswith("Sorry, I didn't catch that") for t in texts)


async def test_mid_guide_a_message_the_guide_cannot_read_starts_with_the_999_line(client):
    conversation = f"a:conv-{uuid.uuid4()}"
    await send(client, activity("a child has just told me something", conversation_id=conversation))
    texts = reply_texts(await send(client, activity("hmm well", conversation_id=conversation)))
    assert texts[0] == UNSURE
    assert texts[1].startswith("Sorry, I didn't catch that")


# ------------------------------------------------------------------ long messages and the event loop


def adversarial(size: int = 30_000, tail: str = " He is hurting her right now.") -> str:
    """A message built to hit what used to be quadratic: capitalised words (the name check),
    harm and immediacy words (the emergency check), long words (the typo repair)."""
    chunk = "Ruby Said The Man Hurt Her Now At School Tonight threatening disclosure . "
    body = (chunk * (size // len(chunk) + 1))[: size - len(tail)]
    return body + tail


async def test_a_30_kb_message_ending_in_danger_gets_999_first(client):
    texts = reply_texts(await send(client, activity(adversarial())))
    assert first_line(texts[0]).startswith("If a child is in immediate danger, call 999 now")
    assert any("longer than I can answer" in t for t in texts)


async def test_a_30_kb_message_cannot_hold_the_event_loop(client, monkeypatch):
    """While a 30 KB message is being triaged, /healthz and another person's turn are answered.

    The long message's triage is held at a gate (a readiness signal, not a sleep) inside the real
    triage call: only if it runs off the event loop can the other requests be answered meanwhile.
    """
    real = safeguarding_bot.triage
    entered, release = threading.Event(), threading.Event()

    def gated(text, rules):
        if len(text) > 20_000:
            entered.set()
            release.wait()
        return real(text, rules)

    monkeypatch.setattr(safeguarding_bot, "triage", gated)
    loop = asyncio.get_running_loop()
    long_turns = [asyncio.create_task(send(client, activity(adversarial()))) for _ in range(8)]
    try:
        await loop.run_in_executor(None, entered.wait)  # the long triage has started
        health = await client.get("/healthz")
        assert health.status == 200
        other = reply_texts(await send(client, activity("he is hurting her right now")))
        assert first_line(other[0]).startswith("If a child is in immediate danger, call 999 now")
        assert not any(task.done() for task in long_turns), "the long turns were meant to be held"
    finally:
        release.set()
    for payload in await asyncio.gather(*long_turns):
        assert first_line(reply_texts(payload)[0]).startswith("If a child is in immediate danger, call 999 now")
