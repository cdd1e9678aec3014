"""FAQ cards: what a practitioner sees, and every button does something the bot understands."""

from __future__ import annotations

import json
import pytest

from bot.cards.common import Reply
from bot.cards.faq import (
    answer_reply,
    suggestions_reply,
    topic_reply,
    topics_reply,
    unknown_reply,
)
from knowledge.faq import Faq, FaqEntry, load_faq
from knowledge.matcher import Candidate, MatchResult
from tests.unit.faq_fixture import write_content

KNOWN_VERBS = {"faq", "feedback", "topics", "topic"}


@pytest.fixture(scope="module")
def faq(tmp_path_factory: pytest.TempPathFactory) -> Faq:
    return load_faq(write_content(tmp_path_factory.mktemp("faq")))


def _actions(node: object) -> list[dict]:
    """Every action anywhere in a card, including inside ShowCard and ActionSet."""
    found: list[dict] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            found.append(node)
        for value in node.values():
            found.extend(_actions(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_actions(item))
    return found


def _assert_well_formed(reply: Reply, faq: Faq) -> None:
    card = reply.card
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    json.dumps(card)  # what goes over the wire must serialise
    for action in _actions(card):
        if action["type"] == "Action.Submit":
            data = action["data"]
            assert data["action"] in KNOWN_VERBS, data
            if data["action"] in ("faq", "feedback"):
                assert faq.entry(data["id"]) is not None, data
            if data["action"] == "topic":
                assert faq.topic(data["topic"]) is not None, data
    for block in card["body"]:
        if block["type"] == "ActionSet":
            assert len(block["actions"]) <= 5  # Teams hides the rest behind an overflow menu
    assert reply.text.strip()


def _submits(reply: Reply) -> list[dict]:
    return [c.data for c in reply.choices if c.data is not None]


def test_answer_card_shows_question_answer_source_and_feedback(faq: Faq) -> None:
    entry = faq.by_id()["evidence-do-not-view-or-forward"]
    reply = answer_reply(entry, faq)
    _assert_well_formed(reply, faq)
    assert reply.card["body"][0]["text"] == entry.question
    assert reply.text.splitlines()[1] == entry.answer
    assert "Source: OCSA practitioner briefing (Digital evidence)" in reply.text
    assert {"action": "feedback", "id": entry.id, "helpful": True} in _submits(reply)
    assert {"action": "feedback", "id": entry.id, "helpful": False} in _submits(reply)


def test_answer_card_hides_detail_behind_more_detail(faq: Faq) -> None:
    entry = faq.by_id()["evidence-do-not-view-or-forward"]
    card = answer_reply(entry, faq).card
    show = [a for a in card["actions"] if a["type"] == "Action.ShowCard"]
    assert [a["title"] for a in show] == ["More detail"]
    assert show[0]["card"]["body"][0]["text"] == entry.detail
    without = answer_reply(faq.by_id()["evidence-preserve"], faq).card
    assert not [a for a in without["actions"] if a["type"] == "Action.ShowCard"]


def test_source_line_names_sections_and_reference_guidance(faq: Faq) -> None:
    original = faq.by_id()["terminology-why-not-child-pornography"]
    entry = FaqEntry.model_validate(
        {
            **original.model_dump(),
            "sources": [
                {"briefing": "introduction"},
                {"briefing": "digital-evidence"},
                {"reference": "guidance.md#sharing-nudes", "note": "reviewer note"},
                {"reference": "contacts.yaml#ceop"},
            ],
        }
    )
    line = [b["text"] for b in answer_reply(entry, faq).card["body"] if b.get("isSubtle")][0]
    assert line == (
        "Source: OCSA practitioner briefing (Introduction; Digital evidence); "
        "Guidance: Sharing nudes; National services directory"
    )


def test_related_questions_are_buttons_that_open_those_entries(faq: Faq) -> None:
    entry = faq.by_id()["evidence-do-not-view-or-forward"]
    reply = answer_reply(entry, faq)
    assert {"action": "faq", "id": "evidence-preserve"} in _submits(reply)
    assert "Should I delete the messages?" in reply.text


def test_service_lines_from_the_directory_are_shown_as_given(faq: Faq) -> None:
    lines = ["CEOP Safety Centre: report online", "Child in immediate danger: 999"]
    reply = answer_reply(faq.by_id()["ceop-how-to-report"], faq, service_lines=lines)
    _assert_well_formed(reply, faq)
    texts = [b["text"] for b in reply.card["body"] if b["type"] == "TextBlock"]
    assert texts[2:4] == lines


def test_suggestions_offer_at_most_three_and_a_way_out(faq: Faq) -> None:
    result = MatchResult(
        outcome="suggest",
        best=Candidate("evidence-preserve", 55),
        suggestions=(
            Candidate("evidence-preserve", 55),
            Candidate("evidence-do-not-view-or-forward", 50),
            Candidate("disclosure-record-verbatim", 45),
            Candidate("posh-helpline", 44),
        ),
    )
    reply = suggestions_reply(result, faq)
    _assert_well_formed(reply, faq)
    assert reply.text.startswith("Did you mean")
    submits = _submits(reply)
    assert [s.get("id") for s in submits[:3]] == [
        "evidence-preserve",
        "evidence-do-not-view-or-forward",
        "disclosure-record-verbatim",
    ]
    assert submits[3:] == [{"action": "topics"}]


def test_unknown_says_so_lists_topics_and_the_helpline(faq: Faq) -> None:
    reply = unknown_reply(faq, ["Professionals Online Safety Helpline: see the directory"])
    _assert_well_formed(reply, faq)
    assert "I don't know that one" in reply.text
    assert "Professionals Online Safety Helpline: see the directory" in reply.text
    assert "call 999" in reply.text
    assert [s["topic"] for s in _submits(reply)] == [t.id for t in faq.topics]


def test_topics_and_topic_cards_list_everything(faq: Faq) -> None:
    topics = topics_reply(faq)
    _assert_well_formed(topics, faq)
    assert [s["topic"] for s in _submits(topics)] == [t.id for t in faq.topics]
    topic = topic_reply(faq, "services")
    _assert_well_formed(topic, faq)
    assert [s.get("id") for s in _submits(topic)] == ["ceop-how-to-report", "posh-helpline", None]
    assert _submits(topic)[-1] == {"action": "topics"}


def test_unknown_topic_id_falls_back_to_the_topic_list(faq: Faq) -> None:
    assert topic_reply(faq, "not-a-topic").text == topics_reply(faq).text


def test_every_shipped_entry_renders_a_working_card() -> None:
    shipped = load_faq()
    for entry in shipped.entries:
        _assert_well_formed(answer_reply(entry, shipped), shipped)
    for topic in shipped.topics:
        _assert_well_formed(topic_reply(shipped, topic.id), shipped)
    _assert_well_formed(unknown_reply(shipped, []), shipped)



def test_shipped_answers_name_reference_guidance_in_words_a_practitioner_recognises():
    from bot.cards.faq import source_line
    from knowledge.faq import load_faq

    faq = load_faq()
    line = source_line(faq.entry("nudes-frontline-response"), faq)
    assert "UKCIS advice: Sharing nudes and semi-nudes" in line
    assert "ukcis with the npcc" not in line.lower()
