"""The disclosure guide as the storage tests walk it, and how to read which step a reply shows."""

from __future__ import annotations

from tests.conftest import reply_texts

# The guide's path for "images or videos": what is typed, and the step it must show.
FLOW = [
    ("a child has just disclosed to me", "danger"),
    ("no", "with-child"),
    ("next", "topic"),
    ("images or videos", "images-or-videos"),
    ("next", "record"),
    ("next", "act"),
    ("next", "close"),
]


def steps_shown(payload: dict, flow) -> list[str]:
    """The guide's steps a response shows, in order (a step card starts with the step's title)."""
    titles = {flow.step(step_id).title: step_id for step_id in flow.step_ids}
    shown = []
    for text in reply_texts(payload):
        first_line = text.strip().split("\n", 1)[0].strip()
        if first_line in titles:
            shown.append(titles[first_line])
    return shown


def assert_no_duplicate_reply(payload: dict) -> None:
    texts = reply_texts(payload)
    assert len(texts) == len(set(texts)), texts
