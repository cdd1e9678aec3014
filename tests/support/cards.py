"""Reading cards the way a user clicks them: every Action.Submit, including inside ShowCards."""

from __future__ import annotations


def submit_actions(card: dict) -> list[dict]:
    """Every Action.Submit in the card, in reading order."""
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit" and isinstance(node.get("data"), dict):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found
