"""Issue 14: the questions practitioners really ask get a correct first sentence, end to end.

Each message goes through the real HTTP app as a Teams activity; the assertion is on what the
practitioner reads first in the answer (after any 999 line or kind correction), and on the
source line the card shows. The messages are worded apart from the entries' own phrasings.
"""

from __future__ import annotations

import pytest

from tests.conftest import activity, reply_texts, send


def _answer_text(texts: list[str]) -> str:
    """The FAQ answer card's text (it alone carries "Last reviewed"), after any 999 card,
    routes or kind correction."""
    for text in texts:
        if "Last reviewed" in text and "Source:" in text:
            return text
    raise AssertionError(f"no answer in {texts!r}")


def _first_sentence_of_answer(card_text: str) -> str:
    # The card text is "question\nanswer\n...": the answer is the line after the heading.
    lines = [line for line in card_text.splitlines() if line.strip()]
    return lines[1] if len(lines) > 1 else lines[0]


CASES = [
    ("Can I promise to keep it a secret?", "No: never promise a child that you will keep it a secret", "NSPCC and Childnet"),
    ("a pupil wants me to swear I won't tell anybody before she says what's wrong", "No: never promise", "NSPCC and Childnet"),
    ("What if the DSL is the person I'm worried about?", "Tell the headteacher or principal straight away", "concerns about staff"),
    ("my concern is actually about our head teacher", "Tell the headteacher or principal straight away; if your concern is about the headteacher, tell the chair of governors", "concerns about staff"),
    ("what is a LADO", "The LADO is the Local Authority Designated Officer", "concerns about staff"),
    ("what is KCSIE", "Keeping children safe in education (KCSIE) is", "current editions"),
    ("Should I tell the mum, when the stepdad is the one sending the messages?", "Not yourself: tell your DSL, who decides with children's social care or the police", "telling parents"),
    ("It's only one small thing, should I bother telling the DSL?", "Yes, pass it on", "telling the DSL"),
    ("Is making or having sexual images of a child abuse?", "Yes: making, sharing or having an indecent image of anyone under 18 is against the law", "Outcome 21"),
    ("Can I just report to CEOP instead of telling the DSL?", "No: tell your DSL and follow your local safeguarding procedures; CEOP is an extra route", "CEOP"),
    ("there are abuse images of kids on a website I came across, where do I report it", "Report the web address to the Internet Watch Foundation (IWF)", "IWF"),
    ("he's being blackmailed with a nude, should he pay?", "No: don't pay", "sextortion"),
    ("someone made a deepfake nude of one of our year 10s", "Yes: an AI-generated, deepfake or otherwise computer-made sexual image of a child is illegal", "AI-generated"),
    ("is sexting illegal?", "Yes, it can be", "Outcome 21"),
    ("what counts as immediate danger?", "Call 999 now. Immediate danger means", "when to call 999"),
    ("how soon must I tell the DSL?", "Immediately", "telling the DSL"),
    ("can I ask her 'did he touch you?'", "Only open questions", "open prompts"),
    ("can I go through his phone to find the pictures", "Don't look through it", "do not view"),
    ("I saw the photo by accident when she showed me", "Stop looking", "do not view"),
    ("can the mum message him pretending to be her daughter to find out who he is", "No: don't investigate yourself", "Local safeguarding procedures"),
    ("should we let the other parents know", "Not by you", "NSPCC and Childnet"),
    ("will childline tell anyone what she says to them", "Mostly: Childline keeps what children tell it confidential", "Childline"),
    ("what is working together to safeguard children", "Working Together to Safeguard Children is", "current editions"),
    ("I work in Wales, does this apply to me?", "No, not directly: this bot's content is written for England", "Wales, Scotland and Northern Ireland"),
    ("Keeping them is fine as long as I don't look, right? should I save the images", "No: don't delete messages or images", "do not view"),
]


@pytest.mark.parametrize(("text", "first", "source"), CASES, ids=[c[0][:40] for c in CASES])
async def test_the_first_sentence_answers_the_question_asked_and_cites_its_source(client, text, first, source):
    texts = reply_texts(await send(client, activity(text)))
    card = _answer_text(texts)
    assert _first_sentence_of_answer(card).startswith(first), card
    source_line = next(line for line in card.splitlines() if line.startswith("Source:"))
    assert source.lower() in source_line.lower(), source_line
    assert "Last reviewed" in card


async def test_a_wrong_term_in_a_request_for_action_gets_the_correction_and_the_action(client):
    texts = reply_texts(await send(client, activity("Found child porn on a colleague's laptop, what do I do")))
    assert texts[0].startswith("A quick note on words")
    answer = _answer_text(texts)
    assert _first_sentence_of_answer(answer).startswith("Tell the headteacher or principal"), answer
    assert "Why shouldn't I say" not in answer and "What terms should I use" not in answer, answer
    assert "child porn" not in answer.lower()


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("bye", "Goodbye."),
        ("thanks, bye", "Goodbye."),
        ("are you a real person?", "No, I'm not a person: I'm an automated guide"),
        ("am I talking to a bot", "No, I'm not a person"),
    ],
)
async def test_goodbyes_and_are_you_a_person_get_short_friendly_replies(client, text, starts):
    texts = reply_texts(await send(client, activity(text)))
    assert texts[0].startswith(starts), texts
    assert "I don't know that one" not in " ".join(texts)


async def test_worried_about_a_colleague_leads_with_the_staff_route_not_an_anonymous_helpline(client):
    texts = reply_texts(await send(client, activity("worried about a colleague")))
    first = texts[0]
    assert first.startswith("I'm worried about a member of staff"), first
    assert "Tell the headteacher or principal straight away" in first
    # the routes for the need follow the answer; the whistleblowing line is among them, as an extra
    assert any("NSPCC Whistleblowing Advice Line" in t for t in texts[1:])
