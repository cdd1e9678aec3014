"""`make chat`: a newcomer types in the terminal and the bot answers through the HTTP pipeline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def chat(lines: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "chat.py")],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_chat_welcomes_answers_and_clicks_numbered_buttons():
    out = chat(["what is ceop", "1", "quit"])
    assert "not an emergency service" in out  # welcome on start
    assert "CEOP" in out
    # "1" clicked the first button of the answer card: the bot answered it rather than
    # matching the text "1" as a question.
    assert out.count("bot>") >= 3


def test_chat_walks_into_the_disclosure_guide():
    out = chat(["a kid disclosed to me what do i do", "no", "quit"])
    assert "immediate danger" in out.lower()
    assert "calm" in out.lower()
