"""Conversations that read like real ones, kept as data (transcripts/*.yaml), replayed against
the disclosure guide. Each bot turn lists what the user must see, in order; ``first`` is what the
first message of the turn must say (999 first, the privacy reminder first); ``never`` is what
must not be said (an echoed name, a 999 line on a path with no danger)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.disclosure import load_flow
from tests.support.dialogs import Conversation, make_dialog

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))


def test_there_is_a_transcript_for_every_topic_branch():
    clicked_or_typed = " ".join(path.read_text(encoding="utf-8") for path in TRANSCRIPTS)
    flow = load_flow()
    for choice in flow.step("topic").choices:
        assert choice.title.split(",")[0] in clicked_or_typed, choice.id


def assert_in_order(text: str, expected: list[str], where: str) -> None:
    position = 0
    for phrase in expected:
        found = text.find(phrase, position)
        assert found >= 0, f"{where}: expected {phrase!r} (in order) in:\n{text}"
        position = found + len(phrase)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
async def test_transcript(path: Path):
    """Each conversation with the bot's shared triage and wording, as wired in the bot."""
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    conversation = Conversation(make_dialog(load_flow()))
    for number, turn in enumerate(script["turns"], start=1):
        where = f"{path.name} turn {number}"
        if "click" in turn:
            replies = await conversation.click(turn["click"]["choice"], turn["click"].get("step"))
        else:
            replies = await conversation.say(turn["user"])
        assert replies, f"{where}: the bot said nothing"
        text = "\n".join(reply.text for reply in replies)
        if "first" in turn:
            assert turn["first"] in replies[0].text, f"{where}: first message was:\n{replies[0].text}"
        assert_in_order(text, turn.get("bot", []), where)
        for phrase in turn.get("never", []):
            assert phrase not in text, f"{where}: must not say {phrase!r}"
    expected_end = script["end"]
    assert conversation.active is (expected_end == "waiting"), f"{path.name}: expected {expected_end}"
