"""Each command in the Teams command menu does what its description promises.

Teams sends a picked command as the message text (with an @mention in a channel or group chat),
so every title is sent to the real bot, over HTTP, as Teams would send it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import activity, cards, reply_texts, send

MANIFEST = Path(__file__).resolve().parents[2] / "deployment" / "teams" / "manifest.json"
BOT = {"id": "28:safeguarding-bot", "name": "Safeguarding bot"}


def command_titles() -> list[str]:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return [command["title"] for lists in manifest["bots"][0]["commandLists"] for command in lists["commands"]]


def mentioned(text: str, conversation_type: str) -> dict:
    return activity(
        f"<at>{BOT['name']}</at> {text}",
        conversation_type=conversation_type,
        entities=[{"type": "mention", "mentioned": BOT, "text": f"<at>{BOT['name']}</at>"}],
    )


def submitted_actions(payload: dict) -> list[str]:
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node["data"]["action"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(cards(payload))
    return found


def test_menu_offers_help_disclosure_referrals_and_topics():
    assert len(command_titles()) == 4


def title_for(word: str) -> str:
    matches = [title for title in command_titles() if word in title.lower()]
    assert len(matches) == 1, f"one command about {word!r}, got {matches}"
    return matches[0]


async def test_help_command_says_what_the_bot_is_and_is_not(client):
    texts = reply_texts(await send(client, activity(title_for("help"))))
    joined = " ".join(texts)
    assert "not an emergency service" in joined and "999" in joined


async def test_disclosure_command_starts_the_step_by_step_guide_in_personal_chat(client):
    payload = await send(client, activity(title_for("disclosed")))
    assert "immediate danger" in reply_texts(payload)[0]
    assert "flow" in submitted_actions(payload)


async def test_referral_command_lists_who_to_contact(client):
    payload = await send(client, activity(title_for("contact")))
    joined = " ".join(reply_texts(payload))
    assert "Who to contact" in joined
    assert "999" in joined


async def test_topics_command_lists_the_topics(client):
    payload = await send(client, activity(title_for("topics")))
    assert "What I can help with" in reply_texts(payload)[0]
    assert "topic" in submitted_actions(payload)


@pytest.mark.parametrize("conversation_type", ["channel", "groupChat"])
async def test_commands_work_with_a_mention_in_shared_conversations(client, conversation_type):
    payload = await send(client, mentioned(title_for("topics"), conversation_type))
    assert "What I can help with" in reply_texts(payload)[0]


@pytest.mark.parametrize("conversation_type", ["channel", "groupChat"])
async def test_disclosure_command_in_a_shared_conversation_points_to_personal_chat(client, conversation_type):
    payload = await send(client, mentioned(title_for("disclosed"), conversation_type))
    texts = reply_texts(payload)
    assert any("personal chat" in text for text in texts)
    assert "flow" not in submitted_actions(payload), "no disclosure-flow step in a shared conversation"
