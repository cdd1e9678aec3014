"""Cards for the bot's own conversation: welcome, help, "did a child just disclose?"."""

from __future__ import annotations

from bot.cards.common import Reply, adaptive_card, heading, open_url_action, submit_action, text_block

MAIN_TASKS = (
    ("A child has just disclosed", {"action": "disclosure_start"}),
    ("Who to contact", {"action": "referrals"}),
    ("Topics I can help with", {"action": "topics"}),
)


def main_task_actions() -> list[dict]:
    return [submit_action(title, dict(data)) for title, data in MAIN_TASKS]


def welcome_reply(text: str) -> Reply:
    return Reply.from_card(
        adaptive_card([heading("Online child sexual abuse: practitioner guide"), text_block(text)], main_task_actions())
    )


def help_reply(text: str) -> Reply:
    return Reply.from_card(adaptive_card([text_block(text)], main_task_actions()))


def disclosure_maybe_reply(text: str, faq_entry_id: str | None) -> Reply:
    actions = [submit_action("Yes, guide me step by step", {"action": "disclosure_start"})]
    if faq_entry_id:
        actions.append(submit_action("No, just answer my question", {"action": "faq", "id": faq_entry_id}))
    else:
        actions.append(submit_action("No, show me the topics", {"action": "topics"}))
    return Reply.from_card(adaptive_card([text_block(text)], actions))


# ---------------------------------------------------------------- 999 first

#: The button every emergency reply leads with: one tap dials 999 (contacts.yaml#emergency).
CALL_999 = ("Call 999", "tel:999")


def emergency_reply(text: str) -> Reply:
    """The first reply when a child may be in immediate danger: its first line says call 999 and
    its first button dials it."""
    title, url = CALL_999
    return Reply.from_card(
        adaptive_card([text_block(text, weight="Bolder", color="Attention")], [open_url_action(title, url)])
    )


def guide_offer_reply(text: str) -> Reply:
    """After the 999 card and the routes: the offer of the step-by-step guide."""
    return Reply.from_card(
        adaptive_card([text_block(text)], [submit_action("Guide me step by step", {"action": "disclosure_start"})])
    )


def with_999_line(reply: Reply, line: str) -> Reply:
    """A reply where the bot is unsure what a message meant, with the short conditional 999 line
    ("If a child is in immediate danger, call 999 now.") above everything else in it."""
    if reply.card is None:
        return Reply.plain(f"{line}\n\n{reply.text}")
    card = dict(reply.card)
    card["body"] = [text_block(line, weight="Bolder"), *reply.card.get("body", [])]
    return Reply.from_card(card)
