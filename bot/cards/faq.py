"""Cards for FAQ answers, "did you mean", "I don't know that one" and the topic lists.

Contact details never come from here: the caller passes lines rendered from the referral
directory (``service_lines`` / ``helpline_lines``), so a number is kept in one place, with its
source and verified date.
"""

from __future__ import annotations

from knowledge.faq import Faq, FaqEntry
from knowledge.matcher import MatchResult

from bot.cards.common import (
    Reply,
    action_set,
    adaptive_card,
    heading,
    show_card_action,
    submit_action,
    text_block,
)

#: Teams shows at most six actions in a set (the rest go to an overflow menu many users never
#: open), so long lists of buttons are split into sets of this size.
_BUTTONS_PER_SET = 5
MAX_SUGGESTIONS = 3
MAX_RELATED = 4
EMERGENCY_LINE = "If a child is in immediate danger, call 999."


def _button_sets(buttons: list[dict]) -> list[dict]:
    return [
        action_set(buttons[i : i + _BUTTONS_PER_SET])
        for i in range(0, len(buttons), _BUTTONS_PER_SET)
    ]


def _faq_button(entry: FaqEntry) -> dict:
    return submit_action(entry.question, {"action": "faq", "id": entry.id})


def source_line(entry: FaqEntry, faq: Faq) -> str:
    """Where the answer comes from, in words a practitioner recognises: the briefing's section
    titles, then the reference guidance by heading (citation notes are for reviewers)."""
    sections: list[str] = []
    others: list[str] = []
    for source in entry.sources:
        if source.briefing:
            section = faq.section(source.briefing)
            sections.append(section.title if section else source.briefing)
        elif source.reference:
            label = faq.reference_label(source.reference)
            if label:
                others.append(label)
            elif source.reference.startswith("guidance"):
                others.append("Guidance: " + source.reference.partition("#")[2].replace("-", " ").capitalize())
            else:
                others.append("National services directory")
    parts: list[str] = []
    if sections:
        parts.append("OCSA practitioner briefing (" + "; ".join(dict.fromkeys(sections)) + ")")
    parts.extend(dict.fromkeys(others))
    return "Source: " + "; ".join(parts) if parts else ""


def answer_reply(entry: FaqEntry, faq: Faq, service_lines: list[str] | None = None) -> Reply:
    body: list[dict] = [heading(entry.question), text_block(entry.answer)]
    body.extend(text_block(line) for line in service_lines or [])
    line = source_line(entry, faq)
    if line:
        body.append(text_block(line, is_subtle=True, size="Small", spacing="Medium"))
    reviewed = entry.review.last_reviewed
    body.append(text_block(f"Last reviewed {reviewed.day} {reviewed:%B %Y}.", is_subtle=True, size="Small"))
    related = [faq.entry(rid) for rid in entry.related]
    related_entries = [e for e in related if e is not None][:MAX_RELATED]
    if related_entries:
        body.append(text_block("Related questions", weight="Bolder", spacing="Medium"))
        body.extend(_button_sets([_faq_button(e) for e in related_entries]))
    actions: list[dict] = []
    if entry.detail:
        actions.append(show_card_action("More detail", [text_block(entry.detail)]))
    actions.append(submit_action("Helpful", {"action": "feedback", "id": entry.id, "helpful": True}))
    actions.append(
        submit_action("Not helpful", {"action": "feedback", "id": entry.id, "helpful": False})
    )
    return Reply.from_card(adaptive_card(body, actions))


def suggestions_reply(result: MatchResult, faq: Faq) -> Reply:
    """ "Did you mean…": up to three entries, and a way out when none of them fits."""
    candidates = list(result.suggestions) or ([result.best] if result.best else [])
    entries = [faq.entry(c.entry_id) for c in candidates]
    buttons = [_faq_button(e) for e in entries if e is not None][:MAX_SUGGESTIONS]
    body: list[dict] = [heading("Did you mean…")]
    body.extend(_button_sets(buttons))
    return Reply.from_card(
        adaptive_card(body, [submit_action("None of these", {"action": "topics"})])
    )


def _topic_buttons(faq: Faq) -> list[dict]:
    return [submit_action(t.title, {"action": "topic", "topic": t.id}) for t in faq.topics]


def unknown_reply(faq: Faq, helpline_lines: list[str]) -> Reply:
    """An honest "I don't know", what the bot can help with, and where a person can help."""
    body: list[dict] = [
        heading("I don't know that one"),
        text_block("I can only answer questions about online child sexual abuse. I can help with:"),
    ]
    body.extend(_button_sets(_topic_buttons(faq)))
    if helpline_lines:
        body.append(
            text_block(
                "For advice from a person, the Professionals Online Safety Helpline can help:",
                spacing="Medium",
            )
        )
        body.extend(text_block(line) for line in helpline_lines)
    body.append(text_block(EMERGENCY_LINE, weight="Bolder", spacing="Medium"))
    return Reply.from_card(adaptive_card(body))


def topics_reply(faq: Faq) -> Reply:
    body: list[dict] = [heading("What I can help with"), text_block("Choose a topic:")]
    body.extend(_button_sets(_topic_buttons(faq)))
    return Reply.from_card(adaptive_card(body))


def topic_reply(faq: Faq, topic_id: str) -> Reply:
    """The questions in one topic; an unknown topic id (a stale button) gets the topic list."""
    topic = faq.topic(topic_id)
    if topic is None:
        return topics_reply(faq)
    body: list[dict] = [heading(topic.title)]
    body.extend(_button_sets([_faq_button(e) for e in faq.entries_in(topic_id)]))
    return Reply.from_card(
        adaptive_card(body, [submit_action("All topics", {"action": "topics"})])
    )
