"""Cards for the bot's own conversation: welcome, help, "did a child just disclose?"."""

from __future__ import annotations

from bot.cards.common import Reply, adaptive_card, heading, submit_action, text_block

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
