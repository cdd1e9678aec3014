"""The bot's fixed wording (content/messages.yaml): what a practitioner reads says no more than
the sources do."""

from __future__ import annotations

import re

from knowledge.messages import load_messages


def test_the_attachment_reply_keeps_the_evidence_advice_without_the_unverified_list() -> None:
    """The briefing says don't delete unless the police advise it; the reference marks "don't
    ask the young person to delete it" as part of a list to verify before quoting."""
    text = " ".join(load_messages().text("attachment").split())
    assert "don't delete them unless the police advise it" in text
    assert not re.search(r"ask (a|the) (child|young person) to delete", text, re.IGNORECASE)
