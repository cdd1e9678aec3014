"""The bot as a practitioner meets it: Teams-shaped activities through the real HTTP app.

Each test asserts what the user sees, in the order they see it.
"""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import activity, cards, reply_texts, send
from tests.support.cards import submit_actions





def first_message(payload: dict) -> str:
    return reply_texts(payload)[0]


@pytest.mark.parametrize(
    "text",
    [
        "he's with her right now and I think he's going to hurt her",
        "a year 8 is meeting a man she met online TONIGHT, what do I do",
        "child in danger now",
    ],
)
async def test_immediate_danger_gets_999_first_then_help(client, text):
    payload = await send(client, activity(text))
    texts = reply_texts(payload)
    assert "999" in texts[0]
    assert len(texts) >= 2, "after the 999 line the bot goes on helping"


async def test_wrong_term_is_corrected_kindly_then_answered(client):
    payload = await send(client, activity("what do I do if I find child porn on a school laptop"))
    texts = reply_texts(payload)
    assert "child sexual abuse material" in texts[0]
    assert len(texts) >= 2
    assert not any("child porn" in t.lower() and "rather than" not in t for t in texts[1:])


async def test_a_plain_question_gets_a_sourced_answer_card_with_working_buttons(client):
    # an unambiguous question: "signs of grooming" is close to three entries, so it gets "did you mean"
    payload = await send(client, activity("should I delete the messages on the phone"))
    [card] = cards(payload)
    text = reply_texts(payload)[0]
    assert "Source" in text or "source" in text
    titles = [a["title"] for a in submit_actions(card)]
    assert any("helpful" in t.lower() for t in titles)
    for action in submit_actions(card):
        follow = await send(client, activity(value=action["data"]))
        assert reply_texts(follow), f"button {action['title']!r} got no reply"


async def test_service_answers_show_contact_details_from_the_directory(client):
    payload = await send(client, activity("what is the professionals online safety helpline"))
    text = "\n".join(reply_texts(payload))
    assert "0344 381 4772" in text


async def test_out_of_scope_question_gets_an_honest_dont_know_with_posh(client):
    payload = await send(client, activity("when is the payroll deadline this month"))
    text = "\n".join(reply_texts(payload))
    assert "know" in text.lower()
    assert "Professionals Online Safety Helpline" in text


async def test_attachment_is_never_opened_and_the_bot_says_why(client):
    body = activity(
        "is this ok?",
        attachments=[{"contentType": "image/png", "contentUrl": "http://127.0.0.1:9/secret.png", "name": "x.png"}],
    )
    payload = await send(client, body)
    text = "\n".join(reply_texts(payload))
    assert "haven't opened" in text
    assert "DSL" in text


async def test_teams_html_copy_of_a_message_is_not_treated_as_a_file(client):
    body = activity(
        "what is ceop",
        attachments=[{"contentType": "text/html", "content": "<p>what is ceop</p>"}],
    )
    text = "\n".join(reply_texts(await send(client, body)))
    assert "haven't opened" not in text
    assert "CEOP" in text


async def test_identifying_details_get_a_reminder_that_does_not_repeat_them(client):
    payload = await send(client, activity("Zendaya Quillfeather dob 04/05/2013 lives at 12 Acacia Road LS1 4AB, what is ceop"))
    text = "\n".join(reply_texts(payload))
    assert "identifying details" in text
    assert "Quillfeather" not in text and "LS1 4AB" not in text


async def test_welcome_is_sent_once_per_conversation(client):
    conversation = f"a:conv-{uuid.uuid4()}"
    install = activity(conversation_id=conversation, type="installationUpdate", action="add")
    update = activity(
        conversation_id=conversation,
        type="conversationUpdate",
        membersAdded=[{"id": "28:safeguarding-bot"}],
    )
    first = reply_texts(await send(client, install))
    second = reply_texts(await send(client, update))
    assert any("not an emergency service" in t for t in first)
    assert second == []


async def test_referral_command_lists_routes_with_tap_to_call(client):
    payload = await send(client, activity("referral routes"))
    card = cards(payload)[0]
    urls = str(card)
    assert "tel:999" in urls


async def test_named_service_lookup(client):
    text = "\n".join(reply_texts(await send(client, activity("nspcc number"))))
    assert "0808 800 5000" in text


async def test_too_long_message_gets_a_polite_reply(client):
    text = "\n".join(reply_texts(await send(client, activity("worried " * 1000))))
    assert "shorter" in text


async def test_disclosure_starts_the_guide_in_personal_chat_but_not_in_a_channel(client):
    personal = reply_texts(await send(client, activity("a pupil just told me her stepdad sends her pics")))
    assert any("immediate danger" in t.lower() for t in personal)
    channel = reply_texts(
        await send(
            client,
            activity(conversation_type="channel", **mention("a pupil just told me her stepdad sends her pics")),
        )
    )
    assert any("personal chat" in t for t in channel)


async def test_greeting_and_thanks(client):
    assert "Hello" in first_message(await send(client, activity("hi")))
    assert "welcome" in first_message(await send(client, activity("thanks!"))).lower()


async def test_feedback_clicks_are_counted_by_entry_id(client, make_app, aiohttp_client):
    app = make_app()
    local = await aiohttp_client(app)
    from bot.http import BOT

    await send(local, activity(value={"action": "feedback", "id": "ceop-what-is-it", "helpful": True}))
    await send(local, activity(value={"action": "feedback", "id": "ceop-what-is-it", "helpful": False}))
    counter = app[BOT].feedback
    assert counter.helpful["ceop-what-is-it"] == 1
    assert counter.not_helpful["ceop-what-is-it"] == 1


async def test_unknown_card_action_gets_help_not_an_error(client):
    text = "\n".join(reply_texts(await send(client, activity(value={"action": "nonsense", "id": 5}))))
    assert "999" in text


def mention(text: str) -> dict:
    return {
        "text": f"<at>Safeguarding bot</at> {text}",
        "entities": [
            {
                "type": "mention",
                "text": "<at>Safeguarding bot</at>",
                "mentioned": {"id": "28:safeguarding-bot", "name": "Safeguarding bot"},
            }
        ],
    }


@pytest.mark.parametrize("conversation_type", ["channel", "groupChat"])
async def test_in_shared_conversations_the_bot_answers_only_when_mentioned(client, conversation_type):
    unmentioned = await send(client, activity("what is ceop", conversation_type=conversation_type))
    assert reply_texts(unmentioned) == []
    body = activity(conversation_type=conversation_type, **mention("what is ceop"))
    mentioned = "\n".join(reply_texts(await send(client, body)))
    assert "CEOP" in mentioned
    assert "Safeguarding bot" not in mentioned.split("\n")[0], "the mention is stripped before matching"


DANGER = "he is hurting her right now"


async def test_feedback_counts_are_readable_by_entry_id(client):
    await send(client, activity(value={"action": "feedback", "id": "posh-helpline", "helpful": True}))
    counts = await (await client.get("/feedback")).json()
    assert counts["posh-helpline"] == {"helpful": 1, "not_helpful": 0}


async def test_an_over_long_message_that_signals_danger_gets_999_first(client):
    texts = reply_texts(await send(client, activity(DANGER + " " + "please help " * 600)))
    assert texts[0].startswith("If a child is in immediate danger, call 999")
    assert any("shorter" in t for t in texts[1:])


async def test_an_attachment_with_a_danger_message_gets_999_and_routes_first(client):
    body = activity(DANGER, attachments=[{"contentType": "image/jpeg", "contentUrl": "http://127.0.0.1:9/x.jpg"}])
    texts = reply_texts(await send(client, body))
    assert texts[0].startswith("If a child is in immediate danger, call 999")
    assert "Call 999" in texts[1]
    assert "haven't opened" in texts[-1]


async def test_an_edited_message_that_now_signals_danger_gets_999(client):
    body = activity(DANGER, type="messageUpdate")
    texts = reply_texts(await send(client, body))
    assert texts and texts[0].startswith("If a child is in immediate danger, call 999")


async def test_an_old_danger_card_clicked_after_the_guide_ended_still_says_999(client):
    value = {"action": "flow", "step": "danger", "choice": "yes"}
    texts = reply_texts(await send(client, activity(value=value)))
    assert texts[0].startswith("If a child is in immediate danger, call 999")


async def test_a_mention_without_text_does_not_break_the_turn(client):
    body = activity(
        "<at>Safeguarding bot</at> " + DANGER,
        conversation_type="channel",
        entities=[{"type": "mention", "mentioned": {"id": "28:safeguarding-bot"}}],
    )
    texts = reply_texts(await send(client, body))
    assert texts[0].startswith("If a child is in immediate danger, call 999")


async def test_card_verbs_a_client_invents_never_reach_the_logs(client, caplog):
    caplog.set_level("INFO")
    await send(client, activity(value={"action": "ZQXCANARY", "id": 1}))
    logged = [str(record.__dict__) for record in caplog.records]
    assert any("card_unknown" in line for line in logged)
    assert not any("ZQXCANARY" in line for line in logged)


async def test_a_conversation_type_that_is_not_text_is_a_clear_400(client):
    body = activity("what is ceop")
    body["conversation"]["conversationType"] = 5
    response = await client.post("/api/messages", json=body)
    assert response.status == 400
    assert "conversationType" in (await response.json())["error"]


async def test_a_caller_chosen_channel_id_never_reaches_the_logs(client, caplog):
    caplog.set_level("INFO")
    await send(client, activity("what is ceop", channel_id="ZQXCHANNELCANARY"))
    logged = [str(record.__dict__) for record in caplog.records]
    assert any("'channel': 'other'" in line for line in logged)
    assert not any("ZQXCHANNELCANARY" in line for line in logged)


async def test_who_do_i_ring_at_2am_asked_in_office_hours_answers_for_2am(client):
    """Issue 15: the time in the question sets the routes (asked at 10:30 on a Wednesday)."""
    payload = await send(client, activity("who do I ring at 2am"))
    text = reply_texts(payload)[0]
    assert text.startswith("Out of hours\nFor 2am on Thursday 26 November (UK time).")
    assert text.index("999") < text.index("NSPCC Helpline")
    nspcc = text[text.index("NSPCC Helpline"):]
    assert "Closed at that time." in nspcc.split("Details checked")[0]
    assert "Available at that time." in text[: text.index("NSPCC Helpline")]  # 999
