"""Adaptive Card primitives shared by every card the bot builds.

Every card is schema 1.5 (the highest Teams renders everywhere). Builders in this package build
cards only; the plain-text rendering is derived from the card (``Reply.from_card``), so the two
can never disagree and a channel without cards still gets every fact and every choice.

Submit data convention: every ``Action.Submit`` carries ``{"action": <verb>, ...}``. The bot
routes card clicks by that verb (see ``bot/safeguarding_bot.py``). Verbs:

- ``faq`` ``{"id": entry_id}``: show an FAQ entry
- ``feedback`` ``{"id": entry_id, "helpful": bool}``: count a helpful/not-helpful click
- ``topics`` / ``topic`` ``{"topic": topic_id}``: list what the bot can help with
- ``help``
- ``disclosure_start``: start the "a child has just disclosed" guide
- ``flow`` ``{"choice": choice_id}``: an answer inside the disclosure guide
- ``referrals`` ``{"need": need_id?}``: referral routes, for one need or all
- ``route`` ``{"id": service_id}``: one referral route
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"


def adaptive_card(body: list[dict], actions: list[dict] | None = None) -> dict:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def text_block(
    text: str,
    *,
    weight: str | None = None,
    size: str | None = None,
    is_subtle: bool = False,
    color: str | None = None,
    spacing: str | None = None,
) -> dict:
    block: dict[str, Any] = {"type": "TextBlock", "text": text, "wrap": True}
    if weight:
        block["weight"] = weight
    if size:
        block["size"] = size
    if is_subtle:
        block["isSubtle"] = True
    if color:
        block["color"] = color
    if spacing:
        block["spacing"] = spacing
    return block


def heading(text: str) -> dict:
    return text_block(text, weight="Bolder", size="Medium")


def fact_set(facts: list[tuple[str, str]]) -> dict:
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in facts]}


def bullet_list(items: list[str]) -> dict:
    """A list as one TextBlock of markdown bullets (Teams renders "- " lists in TextBlocks)."""
    return text_block("\n".join(f"- {item}" for item in items))


def submit_action(title: str, data: dict) -> dict:
    if "action" not in data:
        raise ValueError("submit data must name its action verb")
    return {"type": "Action.Submit", "title": title, "data": data}


def open_url_action(title: str, url: str) -> dict:
    """Open a web page, or ``tel:``/``mailto:`` for tap-to-call and email."""
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def action_set(actions: list[dict]) -> dict:
    return {"type": "ActionSet", "actions": actions}


def show_card_action(title: str, body: list[dict]) -> dict:
    """A collapsible section ("more detail") that expands in place."""
    return {
        "type": "Action.ShowCard",
        "title": title,
        "card": {"type": "AdaptiveCard", "version": CARD_VERSION, "body": body},
    }


@dataclass(frozen=True)
class Choice:
    """A button, as the plain-text rendering lists it: its title and what a click submits."""

    title: str
    data: dict | None = None  # Action.Submit payload
    url: str | None = None  # Action.OpenUrl target (web, tel:, mailto:)


@dataclass(frozen=True)
class Reply:
    """One thing the bot says: an optional card and its plain-text rendering."""

    text: str
    card: dict | None = None
    choices: tuple[Choice, ...] = field(default=())

    @classmethod
    def plain(cls, text: str) -> "Reply":
        return cls(text=text)

    @classmethod
    def from_card(cls, card: dict) -> "Reply":
        text, choices = card_to_text(card)
        return cls(text=text, card=card, choices=tuple(choices))


def card_to_text(card: dict) -> tuple[str, list[Choice]]:
    """Render a card as plain text: every text, fact and link; submit buttons as numbered choices."""
    lines: list[str] = []
    choices: list[Choice] = []

    def walk_action(action: dict) -> None:
        kind = action.get("type")
        if kind == "Action.Submit":
            choices.append(Choice(title=action["title"], data=action.get("data")))
        elif kind == "Action.OpenUrl":
            url = action["url"]
            shown = url.removeprefix("tel:").removeprefix("mailto:")
            title = action["title"]
            # "Call 0808 800 5000" already says the number: don't repeat it as bare digits.
            said = shown.replace(" ", "") in title.replace(" ", "")
            lines.append(title if said else f"{title}: {shown}")
            choices.append(Choice(title=action["title"], url=url))
        elif kind == "Action.ShowCard":
            lines.append("")
            lines.append(f"{action['title']}:")
            for element in action["card"].get("body", []):
                walk_element(element)
            for inner in action["card"].get("actions", []):
                walk_action(inner)

    def walk_element(element: dict) -> None:
        kind = element.get("type")
        if kind == "TextBlock":
            lines.append(element["text"])
        elif kind == "RichTextBlock":
            lines.append("".join(run.get("text", "") for run in element.get("inlines", [])))
        elif kind == "FactSet":
            for fact in element["facts"]:
                lines.append(f"{fact['title']}: {fact['value']}")
        elif kind in ("Container", "Column"):
            for item in element.get("items", []):
                walk_element(item)
        elif kind == "ColumnSet":
            for column in element.get("columns", []):
                walk_element(column)
        elif kind == "ActionSet":
            for action in element.get("actions", []):
                walk_action(action)

    for element in card.get("body", []):
        walk_element(element)
    for action in card.get("actions", []):
        walk_action(action)

    submits = [c for c in choices if c.data is not None]
    if submits:
        lines.append("")
        lines.extend(f"{i}. {c.title}" for i, c in enumerate(submits, start=1))
    return "\n".join(lines).strip(), choices
