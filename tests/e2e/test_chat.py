"""`make chat`: a newcomer types in the terminal and the bot answers through the HTTP pipeline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.processes import Lines

ROOT = Path(__file__).resolve().parents[2]


def chat(processes, lines: list[str], *args: str) -> str:
    """Types the lines into `make chat` (tools/chat.py) and returns what it printed."""
    process = processes.start(
        [sys.executable, str(ROOT / "tools" / "chat.py"), *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    # a hang guard only: chat.py reads to the end of its input and exits
    out, err = process.communicate("\n".join(lines) + "\n", timeout=Lines.HANG_GUARD_S)
    assert process.returncode == 0, err[-2000:]
    return out


def test_chat_welcomes_answers_and_clicks_numbered_buttons(processes):
    out = chat(processes, ["what is ceop", "1", "quit"])
    assert "not an emergency service" in out  # welcome on start
    assert "CEOP" in out
    # "1" clicked the first button of the answer card: the bot answered it rather than
    # matching the text "1" as a question.
    assert out.count("bot>") >= 3


def test_chat_walks_into_the_disclosure_guide(processes):
    out = chat(processes, ["a kid disclosed to me what do i do", "no", "quit"])
    assert "immediate danger" in out.lower()
    assert "calm" in out.lower()
