"""Whatever a practitioner types, at whatever step, the guide answers and keeps nothing typed."""

from __future__ import annotations

import asyncio
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.disclosure import load_flow
from tests.support.dialogs import Conversation, make_dialog

FLOW = load_flow()
STEPS_WITH_CHOICES = [s for s in FLOW.step_ids if FLOW.step(s).choices]
CANARY = "Zqxcanary"

messages = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["", " ", "?", "0", "99", "-1", "1e9", "yes no", "back back", "\x00", "🙂", "help!!", "CANCEL"]),
    st.builds(lambda a, b: f"{a} {CANARY} {b}", st.text(max_size=40), st.text(max_size=40)),
)
clicks = st.fixed_dictionaries(
    {"action": st.just("flow")},
    optional={
        "choice": st.one_of(st.sampled_from(["yes", "no", "continue", "back", "nudes", "x"]), st.integers(), st.none()),
        "step": st.one_of(st.sampled_from(STEPS_WITH_CHOICES + ["nowhere"]), st.integers()),
    },
)


async def one_turn(route: list[str], message: str | None, click: dict | None) -> None:
    conversation = Conversation(make_dialog(FLOW))
    await conversation.say("start")
    for choice in route:
        await conversation.say(choice)
    replies = await conversation.send(text=message, value=click)
    assert replies, "the guide must always answer"
    stored = await conversation.stored()
    assert CANARY not in stored and CANARY not in "".join(r.text for r in replies)
    paths = re.findall(r"'path': \[([^\]]*)\]", stored)
    for path in paths:
        assert all(step.strip(" '") in FLOW.step_ids for step in path.split(","))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    route=st.lists(st.sampled_from(["1", "2", "3", "4", "ok", "back"]), max_size=6),
    message=messages,
)
def test_any_typed_message_at_any_step_gets_an_answer_and_is_not_kept(route, message):
    asyncio.run(one_turn(route, message, None))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(route=st.lists(st.sampled_from(["1", "2", "ok"]), max_size=5), click=clicks)
def test_any_card_click_at_any_step_gets_an_answer(route, click):
    asyncio.run(one_turn(route, None, click))
