"""The guide's cards: the buttons a practitioner sees, what a click submits, the plain-text
rendering for channels without cards, and a summary that can be copied."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.cards.disclosure import notice_reply, step_reply, summary_reply
from knowledge.disclosure import load_flow
from knowledge.messages import load_messages


@pytest.fixture(scope="module")
def flow():
    return load_flow()


def submit_data(card: dict) -> list[dict]:
    found: list[dict] = []

    def walk(element: dict) -> None:
        if element.get("type") == "Action.Submit":
            found.append(element["data"])
        for key in ("body", "items", "actions", "columns"):
            for child in element.get(key, []) or []:
                walk(child)

    walk(card)
    return found


def test_every_button_submits_a_flow_answer_for_its_own_step(flow):
    for step_id in flow.step_ids:
        card = step_reply(flow, step_id).card
        data = submit_data(card)
        assert [d["choice"] for d in data] == [cid for cid, _ in flow.buttons(step_id)]
        assert all(d["action"] == "flow" and d["step"] == step_id for d in data)


def test_a_typed_number_means_the_button_with_that_number_in_plain_text(flow):
    for step_id in flow.step_ids:
        reply = step_reply(flow, step_id)
        for number, (choice_id, title) in enumerate(flow.buttons(step_id), start=1):
            assert f"{number}. {title}" in reply.text
            assert flow.interpret_answer(step_id, str(number)) == choice_id


def test_plain_text_carries_every_line_of_advice_and_its_sources(flow):
    reply = step_reply(flow, "nudes")
    for item in flow.step("nudes").items:
        assert item.text in reply.text
        for point in item.points:
            assert point in reply.text
    assert "UKCIS: Sharing nudes and semi-nudes" in reply.text
    assert "Sources:" in reply.text


def test_the_closing_step_has_no_buttons(flow):
    assert submit_data(step_reply(flow, "close").card) == []


def test_summary_card_holds_the_checklist_and_a_box_to_copy_it(flow):
    summary = flow.summary(
        ["danger", "with-child", "topic", "other", "record", "act", "close"],
        datetime(2026, 11, 25, 9, 41, tzinfo=timezone.utc),
    )
    reply = summary_reply(summary, flow.messages.summary_copy)
    assert reply.text == summary.as_text()
    assert "09:41" in reply.text
    copy_box = reply.card["actions"][0]["card"]["body"][0]
    assert copy_box["type"] == "Input.Text" and copy_box["value"] == summary.as_text()
    for line in summary.lines:
        assert line in reply.card["body"][3]["text"]


def test_an_urgent_notice_stands_out_and_keeps_its_words():
    emergency = load_messages().text("emergency")
    reply = notice_reply(emergency, urgent=True)
    block = reply.card["body"][0]
    assert block["color"] == "Attention" and block["weight"] == "Bolder"
    assert reply.text == emergency
    assert notice_reply("plain").card is None


def test_every_card_of_the_guide_is_valid_for_teams(flow, tmp_path):
    """Parsed by the official adaptivecards library at schema 1.5, as a Teams client would."""
    import json
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    validator = root / "tests" / "support" / "validate_cards.cjs"
    if shutil.which("node") is None or not (root / "node_modules" / "adaptivecards").exists():
        pytest.skip("node and the adaptivecards package are needed (make test installs them)")
    summary = flow.summary(flow.step_ids, datetime(2026, 11, 25, 9, 41, tzinfo=timezone.utc))
    cards = [{"name": step_id, "card": step_reply(flow, step_id).card} for step_id in flow.step_ids]
    cards.append({"name": "summary", "card": summary_reply(summary, flow.messages.summary_copy).card})
    cards.append({"name": "urgent", "card": notice_reply(load_messages().text("emergency"), urgent=True).card})
    source = tmp_path / "cards.json"
    source.write_text(json.dumps(cards), encoding="utf-8")
    result = subprocess.run(["node", str(validator), str(source)], capture_output=True, text=True, check=True)
    problems = {item["name"]: item["problems"] for item in json.loads(result.stdout) if item["problems"]}
    assert problems == {}
