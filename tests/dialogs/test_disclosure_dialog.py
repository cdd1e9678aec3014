"""The disclosure guide as a practitioner uses it, one dialog in isolation (DialogTestClient):
every branch, the controls at every step, 999 first, privacy, and resuming after a restart."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from botbuilder.core import MemoryStorage
from botbuilder.dialogs import DialogTurnStatus

from bot.cards.common import Reply
from knowledge.disclosure import load_flow
from tests.support.dialogs import (
    FIXED_NOW,
    NATIONAL_ROUTES_TITLE,
    POSH_TITLE,
    Conversation,
    make_dialog,
    shared_triage,
    texts,
)

START = "a child has just told me something"
DANGER = "Is the child in immediate danger?"
#: The clicks that reach each step from the start (danger "no", then the "other" branch).
ROUTE = {
    "danger": [],
    "emergency": [("danger", "yes")],
    "with-child": [("danger", "no")],
    "topic": [("danger", "no"), ("with-child", "continue")],
    "other": [("danger", "no"), ("with-child", "continue"), ("topic", "other")],
    "record": [("danger", "no"), ("with-child", "continue"), ("topic", "other"), ("other", "continue")],
    "act": [("danger", "no"), ("with-child", "continue"), ("topic", "other"), ("other", "continue"),
            ("record", "continue")],
}


@pytest.fixture(scope="module")
def flow():
    return load_flow()


@pytest.fixture
def conversation(flow):
    """The guide as the bot wires it: the shared triage and the shared wording."""
    return Conversation(make_dialog(flow))


async def at_step(conversation: Conversation, step: str):
    replies = await conversation.say(START)
    for on_step, choice in ROUTE[step]:
        replies = await conversation.click(choice, on_step)
    return replies


def title(flow, step_id: str) -> str:
    return flow.step(step_id).title


def step_shown(replies) -> str:
    """The step card of a turn (the last message with buttons); route cards may follow it."""
    return next(reply.text for reply in reversed(replies) if reply.buttons)


# ------------------------------------------------------------------------------ branches


@pytest.mark.parametrize("branch", ["images-or-videos", "another-child", "nudes", "other"])
async def test_each_branch_runs_from_danger_to_summary(flow, conversation, branch):
    replies = await conversation.say(START)
    assert replies[0].text.startswith(DANGER)
    replies = await conversation.click("no", "danger")
    assert replies[0].text.startswith(title(flow, "with-child"))
    replies = await conversation.click("continue", "with-child")
    assert replies[0].text.startswith(title(flow, "topic"))
    replies = await conversation.click(branch, "topic")
    assert replies[0].text.startswith(title(flow, branch))
    for item in flow.step(branch).items:
        assert item.text in replies[0].text
    replies = await conversation.click("continue", branch)
    assert "verbatim" in replies[0].text and "not in this chat" in replies[0].text
    replies = await conversation.click("continue", "record")
    assert replies[0].text.startswith(title(flow, "act"))
    assert NATIONAL_ROUTES_TITLE in texts(replies)
    replies = await conversation.click("continue", "act")
    summary = replies[0].text
    assert summary.startswith(flow.messages.summary_title)
    assert "09:41 on 25 November 2026" in summary
    for item in flow.step(branch).items:
        if item.summary:
            assert item.summary in summary
    assert "999" not in summary  # no danger on this path, so no 999 line in the record
    assert POSH_TITLE in texts(replies)
    assert conversation.status == DialogTurnStatus.Complete


@pytest.mark.parametrize("answer", ["yes", "not-sure"])
async def test_danger_yes_or_not_sure_says_call_999_first_then_continues(flow, conversation, answer):
    await conversation.say(START)
    replies = await conversation.click(answer, "danger")
    assert replies[0].text.startswith("Call 999 now")
    assert "keep the child safe" in replies[0].text
    replies = await conversation.click("continue", "emergency")
    assert replies[0].text.startswith(title(flow, "with-child"))


async def test_the_summary_records_the_999_advice_when_there_was_danger(flow, conversation):
    await conversation.say(START)
    for step, choice in [("danger", "not-sure"), ("emergency", "continue"), ("with-child", "continue"),
                         ("topic", "nudes"), ("nudes", "continue"), ("record", "continue")]:
        await conversation.click(choice, step)
    replies = await conversation.click("continue", "act")
    assert "Call 999 and keep the child safe" in replies[0].text
    assert "refer to the police urgently" in replies[0].text


# ------------------------------------------------------------------------------ typed answers


async def test_typed_answers_and_typos_move_the_flow_on(flow, conversation):
    await conversation.say(START)
    assert (await conversation.say("nope"))[0].text.startswith(title(flow, "with-child"))
    assert (await conversation.say("contnue"))[0].text.startswith(title(flow, "topic"))
    assert (await conversation.say("3"))[0].text.startswith(title(flow, "nudes"))
    assert (await conversation.say("ok"))[0].text.startswith(title(flow, "record"))


async def test_an_answer_that_is_not_understood_asks_again_at_the_same_step(flow, conversation):
    await conversation.say(START)
    replies = await conversation.say("hmm well")
    # unsure what the message means: the short 999 line first (issue 12), then "didn't catch that"
    assert replies[0].text == "If a child is in immediate danger, call 999 now."
    assert replies[1].text == flow.messages.not_understood
    assert replies[-1].text.startswith(DANGER)


async def test_triage_intents_answer_the_question(flow):
    """The shared triage's "yes"/"not_sure" intents count as answers when the words alone do not."""
    triage = lambda text: SimpleNamespace(intent="yes", emergency=False, identifying_details=False)  # noqa: E731
    conversation = Conversation(make_dialog(flow, triage=triage))
    await conversation.say(START)
    replies = await conversation.say("yes i reckon so")
    assert replies[0].text.startswith("Call 999 now")


# ------------------------------------------------------------------------------ controls


@pytest.mark.parametrize("step", list(ROUTE))
async def test_cancel_stops_the_guide_at_any_step(flow, conversation, step):
    await at_step(conversation, step)
    replies = await conversation.say("cancel")
    assert replies[-1].text == flow.messages.cancelled
    assert not conversation.active
    replies = await conversation.say(START)  # a new guide starts from the beginning
    assert replies[0].text.startswith(DANGER)


@pytest.mark.parametrize("step", [s for s in ROUTE if s != "danger"])
async def test_back_returns_to_the_step_before(flow, conversation, step):
    await at_step(conversation, step)
    previous = ROUTE[step][-1][0]
    replies = await conversation.say("back")
    assert replies[0].text.startswith(title(flow, previous))


async def test_back_on_the_first_step_says_there_is_nothing_before(flow, conversation):
    await conversation.say(START)
    replies = await conversation.say("go back")
    assert replies[0].text == flow.messages.first_step
    assert replies[-1].text.startswith(DANGER)


@pytest.mark.parametrize("how", ["typed", "clicked"])
async def test_start_again_goes_back_to_the_danger_question(flow, conversation, how):
    await at_step(conversation, "record")
    replies = await (conversation.say("start again") if how == "typed" else conversation.click("restart", "record"))
    assert replies[0].text == flow.messages.restarted
    assert replies[-1].text.startswith(DANGER)


@pytest.mark.parametrize("step", list(ROUTE))
async def test_help_explains_the_controls_and_stays_on_the_step(flow, conversation, step):
    await at_step(conversation, step)
    replies = await conversation.say("help")
    assert replies[0].text == flow.messages.help
    assert step_shown(replies).startswith(title(flow, step))


async def test_a_question_mid_flow_is_answered_then_the_flow_resumes_saying_so(flow, conversation):
    await at_step(conversation, "with-child")
    replies = await conversation.say("what's ceop?")
    assert replies[0].text.startswith("CEOP (stub answer)")
    assert replies[1].text == f"Back to where we were: {title(flow, 'with-child')}"
    assert replies[2].text.startswith(title(flow, "with-child"))
    replies = await conversation.say("continue")
    assert replies[0].text.startswith(title(flow, "topic"))


async def test_a_click_on_an_earlier_card_does_not_move_the_flow(flow, conversation):
    await at_step(conversation, "record")
    replies = await conversation.click("continue", "with-child")
    assert replies[0].text == flow.messages.stale_choice
    assert replies[-1].text.startswith(title(flow, "record"))


# ------------------------------------------------------------------------------ 999 first


@pytest.mark.parametrize("step", [s for s in ROUTE if s != "danger"])
async def test_signs_of_danger_at_any_step_get_999_first_then_the_same_step(flow, conversation, step):
    await at_step(conversation, step)
    replies = await conversation.say("he is going to hurt her tonight")
    assert "call 999" in replies[0].text.lower()
    assert step_shown(replies).startswith(title(flow, step))


async def test_danger_described_at_the_danger_question_is_a_yes(conversation):
    await conversation.say(START)
    replies = await conversation.say("she says she is suicidal")
    assert replies[0].text.startswith("Call 999 now")


async def test_clicking_yes_on_an_old_danger_card_still_says_999_first(flow, conversation):
    await at_step(conversation, "act")
    replies = await conversation.click("yes", "danger")
    assert "call 999" in replies[0].text.lower()
    assert step_shown(replies).startswith(title(flow, "act"))


@pytest.mark.parametrize("step", list(ROUTE))
async def test_the_shared_triage_decides_what_danger_looks_like(flow, step):
    triage = lambda text: SimpleNamespace(intent=None, emergency=True, identifying_details=False)  # noqa: E731
    conversation = Conversation(make_dialog(flow, triage=triage))
    await at_step(conversation, step)
    replies = await conversation.say("something only the shared triage recognises")
    assert "999" in replies[0].text


async def test_the_999_wording_comes_from_the_shared_messages_when_given(flow, conversation):
    shared = SimpleNamespace(text=lambda key: {"emergency": "SHARED 999 LINE", "privacy_reminder": "SHARED PRIVACY"}[key])
    conversation = Conversation(make_dialog(flow, messages=shared))
    await at_step(conversation, "topic")
    replies = await conversation.say("she is in immediate danger")
    assert replies[0].text == "SHARED 999 LINE"


async def test_the_wrong_term_mid_flow_gets_the_shared_correction_after_the_999_line(flow):
    from knowledge.messages import load_messages

    messages = load_messages()
    conversation = Conversation(make_dialog(flow, triage=shared_triage(), messages=messages))
    await at_step(conversation, "topic")
    replies = await conversation.say("she's in danger now, he made child porn of her")
    assert replies[0].text == messages.text("emergency")
    assert replies[1].text == messages.text("wrong_term")


# ------------------------------------------------------------------------------ privacy


@pytest.mark.parametrize(
    ("message", "details"),
    [
        ("Her name is Jane Doe, DOB 03/04/2012", ["Jane", "03/04/2012"]),
        ("mum's mobile is 07700 900123", ["07700", "900123"]),
        ("he lives at 14 Larkspur Close, AB1 2CD", ["Larkspur", "AB1 2CD"]),
    ],
)
async def test_identifying_details_get_a_reminder_and_are_never_echoed_or_stored(flow, conversation, message, details):
    await at_step(conversation, "topic")
    replies = await conversation.say(message)
    assert "identifying details" in replies[0].text
    assert replies[-1].text.startswith(title(flow, "topic"))
    everything = "\n".join(r.text for r in conversation.transcript) + await conversation.stored()
    for detail in details:
        assert detail not in everything


async def test_identifying_details_are_not_passed_on_to_the_question_answerer(flow):
    asked: list[str] = []
    conversation = Conversation(make_dialog(flow, answer_question=lambda text: asked.append(text) or None))
    await conversation.say(START)
    await conversation.say("what about Jane Doe DOB 03/04/2012?")
    assert asked == []


async def test_dialog_state_holds_only_step_ids_and_the_start_time(conversation):
    await at_step(conversation, "topic")
    await conversation.say("what's ceop? it's about my pupil Kayleigh")
    stored = await conversation.stored()
    assert "Kayleigh" not in stored and "ceop" not in stored.lower()
    assert "'path': ['danger', 'with-child', 'topic']" in stored
    assert "'started_at': '2026-11-25T09:41:00+00:00'" in stored


# ------------------------------------------------------------------------------ restarts, faults, channels


async def test_a_new_bot_instance_over_the_same_storage_continues_the_flow(flow):
    storage = MemoryStorage()
    before = Conversation(make_dialog(flow), storage=storage)
    await before.say(START)
    await before.click("yes", "danger")
    await before.click("continue", "emergency")

    after = Conversation(make_dialog(load_flow()), storage=storage)  # the process restarted
    replies = await after.say("continue")
    assert replies[0].text.startswith(title(flow, "topic"))
    for choice, step in [("another-child", "topic"), ("continue", "another-child"), ("continue", "record")]:
        await after.click(choice, step)
    replies = await after.click("continue", "act")
    assert "Call 999 and keep the child safe" in replies[0].text  # the path from before the restart
    assert after.status == DialogTurnStatus.Complete


async def test_a_guide_left_open_too_long_is_closed_safely(flow):
    now = [FIXED_NOW]
    conversation = Conversation(make_dialog(flow, clock=lambda: now[0], expire_after=timedelta(hours=2)))
    await conversation.say(START)
    now[0] = FIXED_NOW + timedelta(hours=3)
    replies = await conversation.say("no")
    assert replies[0].text == flow.messages.expired
    assert "999" in replies[0].text
    assert not conversation.active


async def test_danger_typed_to_a_guide_left_open_too_long_gets_999_before_the_closing_note(flow):
    now = [FIXED_NOW]
    options = {"clock": lambda: now[0], "expire_after": timedelta(hours=2), "triage": shared_triage()}
    conversation = Conversation(make_dialog(flow, **options))
    await conversation.say(START)
    now[0] = FIXED_NOW + timedelta(hours=3)
    replies = await conversation.say("he is hurting her right now")
    assert "call 999" in replies[0].text.lower()
    assert replies[0].text != flow.messages.expired
    assert replies[-1].text == flow.messages.expired
    assert not conversation.active


def test_the_guide_is_not_built_without_the_shared_triage(flow):
    """The guide has no danger word list of its own: without the shared triage it would miss
    danger, so building it that way fails at start-up, not mid-conversation."""
    from dialogs.disclosure_dialog import DisclosureDialog
    from tests.support.dialogs import shared_messages, stub_act_routes

    with pytest.raises(ValueError, match="triage"):
        DisclosureDialog(flow, act_routes=stub_act_routes, messages=shared_messages())


async def test_a_fault_in_triage_still_says_999_and_keeps_the_guide_going(flow):
    def broken(_text: str):
        raise RuntimeError("triage down")

    conversation = Conversation(make_dialog(flow, triage=broken))
    await at_step(conversation, "topic")
    replies = await conversation.say("something the triage could not read")
    assert "call 999" in replies[0].text.lower()
    assert step_shown(replies).startswith(title(flow, "topic"))
    assert conversation.active


async def test_a_fault_finding_referral_routes_does_not_break_the_guide(flow):
    def broken() -> list:
        raise RuntimeError("directory unavailable")

    conversation = Conversation(make_dialog(flow, act_routes=broken))
    replies = await at_step(conversation, "act")
    assert replies[0].text.startswith(title(flow, "act"))
    replies = await conversation.click("continue", "act")
    assert replies[0].text.startswith(flow.messages.summary_title)


@pytest.mark.parametrize(
    "options",
    [
        {"path": ["a-step-since-removed"], "started_at": "2026-11-25T09:41:00+00:00"},
        {"path": ["danger", "with-child"], "started_at": "not a time"},
        {"path": [], "started_at": "2026-11-25T09:41:00+00:00"},
        None,
    ],
)
@pytest.mark.parametrize("message", ["no", "she is in immediate danger"])
async def test_state_from_an_older_flow_restarts_cleanly(flow, options, message):
    storage = MemoryStorage()
    before = Conversation(make_dialog(flow), storage=storage)
    await before.say(START)
    state = await storage.read(["test/conversations/Convo1"])
    stack = state["test/conversations/Convo1"]["DialogState"].dialog_stack
    stack[0].state["dialogs"].dialog_stack[0].state["options"] = options
    await storage.write(state)
    after = Conversation(make_dialog(flow), storage=storage)
    replies = await after.say(message)
    if "danger" in message:
        assert "999" in replies[0].text
    assert flow.messages.restarted in [reply.text for reply in replies[:2]]
    assert replies[-1].text.startswith(DANGER)


@pytest.mark.parametrize(("channel", "cards"), [("msteams", True), ("test", True), ("sms", False)])
async def test_cards_where_the_channel_shows_them_and_numbered_text_elsewhere(flow, channel, cards):
    conversation = Conversation(make_dialog(flow), channel=channel)
    replies = await conversation.say(START)
    assert replies[0].is_card is cards
    assert "1. Yes" in replies[0].text and "3. Not sure" in replies[0].text
    replies = await conversation.say("2")
    assert replies[0].text.startswith(title(flow, "with-child"))



async def test_an_answer_meant_for_another_step_is_not_sent_to_the_faq(flow):
    asked: list[str] = []
    conversation = Conversation(make_dialog(flow, answer_question=lambda text: asked.append(text) or [Reply.plain("FAQ")]))
    await at_step(conversation, "topic")
    replies = await conversation.say("continue")
    assert replies[0].text == "If a child is in immediate danger, call 999 now."
    assert replies[1].text == flow.messages.not_understood
    assert step_shown(replies).startswith(title(flow, "topic"))
    assert asked == []
