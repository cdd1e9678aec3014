"""Cards for the "a child has just disclosed" guide: one step, the closing summary, a notice.

Wording comes from the flow content (``knowledge/content/disclosure.yaml``); this module only lays
it out. Button clicks submit ``{"action": "flow", "choice": <choice or control id>, "step": <step id>}``
(the step id tells a click on an old card from an answer to the current step), and the
buttons appear in the order ``DisclosureFlow.buttons`` gives, so a typed number means the same
button on a card and in the plain-text rendering.
"""

from __future__ import annotations

from bot.cards.common import (
    Reply,
    action_set,
    adaptive_card,
    bullet_list,
    heading,
    open_url_action,
    show_card_action,
    submit_action,
    text_block,
)
from knowledge.disclosure import DisclosureFlow, Item, Summary

FLOW_ACTION = "flow"


def choice_data(step_id: str, choice_id: str) -> dict:
    return {"action": FLOW_ACTION, "choice": choice_id, "step": step_id}


def _item_blocks(items: tuple[Item, ...]) -> list[dict]:
    """Plain items as one bullet list; an item with sub-points as a bullet and a lettered list."""
    blocks: list[dict] = []
    pending: list[str] = []
    for item in items:
        if not item.points:
            pending.append(item.text)
            continue
        if pending:
            blocks.append(bullet_list(pending))
            pending = []
        blocks.append(bullet_list([item.text]))
        # Lettered, not numbered: a typed number picks a button, so numbers stay for buttons.
        letters = "abcdefghijklmnopqrstuvwxyz"
        blocks.append(text_block("\n".join(f"({letters[n]}) {p}" for n, p in enumerate(item.points))))
    if pending:
        blocks.append(bullet_list(pending))
    return blocks


def step_reply(flow: DisclosureFlow, step_id: str, *, call_999: bool = False) -> Reply:
    """One step of the guide: what to do, where it comes from, and the answers as buttons.

    ``call_999``: the guide's danger step, whose first button dials 999 (tel:), above the answers
    (a link is not a numbered choice, so typed numbers still pick the same answers)."""
    step = flow.step(step_id)
    body: list[dict] = [heading(step.title)]
    if call_999:
        body.append(action_set([open_url_action("Call 999", "tel:999")]))
    if step.text:
        body.append(text_block(step.text))
    body.extend(_item_blocks(step.items))
    sources = flow.sources_of(step_id)
    if sources:
        body.append(
            text_block(f"{flow.messages.sources_label}: {'; '.join(sources)}", is_subtle=True, size="Small")
        )
    buttons = flow.buttons(step_id)
    answers = [submit_action(title, choice_data(step_id, cid)) for cid, title in buttons[: len(step.choices)]]
    controls = [submit_action(title, choice_data(step_id, cid)) for cid, title in buttons[len(step.choices) :]]
    if answers:
        body.append(action_set(answers))
    if controls:
        body.append(action_set(controls))
    return Reply.from_card(adaptive_card(body))


def summary_reply(summary: Summary, copy_label: str) -> Reply:
    """The closing checklist. The card holds it twice: readable, and in a box to select and copy.

    The plain-text rendering is ``Summary.as_text()`` itself, already easy to copy.
    """
    copy_box = {
        "type": "Input.Text",
        "id": "summary_text",
        "label": copy_label,
        "isMultiline": True,
        "value": summary.as_text(),
    }
    body = [
        heading(summary.title),
        text_block(summary.started, is_subtle=True),
        text_block(summary.intro),
        bullet_list(list(summary.lines)),
    ]
    card = adaptive_card(body, actions=[show_card_action(copy_label, [copy_box])])
    return Reply(text=summary.as_text(), card=card)


def notice_reply(text: str, *, urgent: bool = False) -> Reply:
    """A short message between steps; urgent ones (call 999) stand out in red and bold."""
    if urgent:
        return Reply.from_card(adaptive_card([text_block(text, weight="Bolder", color="Attention")]))
    return Reply.plain(text)
