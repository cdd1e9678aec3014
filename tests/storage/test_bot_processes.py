"""Real bot processes (`python app.py`, BOT_STORAGE=blob) sharing state in Azurite.

What a practitioner would notice: the disclosure guide carries on at the right step whichever
instance answers, after a crash, after concurrent messages and after a storage outage; and nothing
they typed is ever in storage.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from bot.storage import EXPIRES_KEY
from tests.conftest import activity, reply_texts
from tests.storage.support import blob_texts
from tests.storage.flow import FLOW, assert_no_duplicate_reply, steps_shown

SCENARIO_SECONDS = 180


def new_conversation() -> str:
    return f"a:conv-{uuid.uuid4()}"


async def test_two_processes_share_one_conversation(azurite, container_name, start_bot, knowledge):
    first, second = start_bot(azurite, container_name), start_bot(azurite, container_name)
    conversation = new_conversation()

    async def scenario():
        for turn, (text, step) in enumerate(FLOW):
            bot = (first, second)[turn % 2]
            payload = await bot.post(activity(text, conversation_id=conversation))
            assert steps_shown(payload, knowledge.flow) == [step], (turn, reply_texts(payload))

    await asyncio.wait_for(scenario(), SCENARIO_SECONDS)


async def test_kill_9_after_every_step_resumes_at_the_next_step(azurite, container_name, start_bot, knowledge):
    conversation = new_conversation()

    async def scenario():
        for text, step in FLOW:
            bot = start_bot(azurite, container_name)
            payload = await bot.post(activity(text, conversation_id=conversation))
            assert steps_shown(payload, knowledge.flow) == [step], reply_texts(payload)
            assert_no_duplicate_reply(payload)
            bot.kill()

    await asyncio.wait_for(scenario(), SCENARIO_SECONDS)


async def test_kill_9_during_every_turn_leaves_the_guide_at_one_step_or_the_next(
    azurite, container_name, start_bot, knowledge
):
    """A host dies mid-turn (before or after the save): the next instance shows the step before
    or the step after that turn, never a restart, a broken state or a reply twice."""
    outcomes: list[str] = []

    async def scenario():
        for index in range(1, len(FLOW)):
            conversation = new_conversation()
            bot = start_bot(azurite, container_name)
            for text, _step in FLOW[:index]:
                await bot.post(activity(text, conversation_id=conversation))
            before, after = FLOW[index - 1][1], FLOW[index][1]
            in_flight = asyncio.ensure_future(bot.post(activity(FLOW[index][0], conversation_id=conversation)))
            await asyncio.sleep(0.005 * index)
            bot.kill()
            await asyncio.gather(in_flight, return_exceptions=True)

            successor = start_bot(azurite, container_name)
            payload = await successor.post(activity("help", conversation_id=conversation))
            shown = steps_shown(payload, knowledge.flow)
            assert_no_duplicate_reply(payload)
            if after == "close":  # the guide ended with that turn, or it is still at "act"
                assert shown in ([before], []), reply_texts(payload)
            else:
                assert shown in ([before], [after]), reply_texts(payload)
            outcomes.append("saved" if shown != [before] else "not saved")
            successor.kill()

    await asyncio.wait_for(scenario(), SCENARIO_SECONDS)
    print(f"kill -9 mid-turn outcomes: {outcomes}")


async def test_concurrent_turns_in_one_process_lose_no_update(azurite, container_name, start_bot, knowledge):
    bot = start_bot(azurite, container_name)
    conversation = new_conversation()

    async def scenario():
        for text, _step in FLOW[:4]:
            await bot.post(activity(text, conversation_id=conversation))
        payloads = await asyncio.gather(*(bot.post(activity("next", conversation_id=conversation)) for _ in range(3)))
        shown = sorted(step for payload in payloads for step in steps_shown(payload, knowledge.flow))
        assert shown == sorted(["record", "act", "close"]), [reply_texts(p) for p in payloads]

    await asyncio.wait_for(scenario(), SCENARIO_SECONDS)


async def test_concurrent_turns_on_two_processes_lose_no_update(azurite, container_name, start_bot, knowledge):
    """Both instances read the same step; the e_tag refuses the second save and that turn runs again."""
    first, second = start_bot(azurite, container_name), start_bot(azurite, container_name)

    async def race(conversation: str) -> None:
        for turn, (text, _step) in enumerate(FLOW[:4]):
            await (first, second)[turn % 2].post(activity(text, conversation_id=conversation))
        payloads = await asyncio.gather(
            first.post(activity("next", conversation_id=conversation)),
            second.post(activity("next", conversation_id=conversation)),
        )
        shown = sorted(step for payload in payloads for step in steps_shown(payload, knowledge.flow))
        assert shown == ["act", "record"], [reply_texts(p) for p in payloads]
        after = await first.post(activity("help", conversation_id=conversation))
        assert steps_shown(after, knowledge.flow) == ["act"]

    async def scenario():
        for _ in range(5):
            await race(new_conversation())

    await asyncio.wait_for(scenario(), SCENARIO_SECONDS)
    reruns = sum(
        1 for bot in (first, second) for record in bot.log_records() if record.get("outcome") == "state_conflict_rerun"
    )
    print(f"cross-process races: 5, turns re-run after an e_tag conflict: {reruns}")


async def test_state_expires_and_holds_nothing_typed(azurite, container_name, start_bot, knowledge):
    ttl_seconds = 3
    bot = start_bot(azurite, container_name, BOT_STATE_TTL_SECONDS=str(ttl_seconds))
    conversation = new_conversation()
    canary = f"zq{uuid.uuid4().hex[:12]}"

    def planted(text: str, **extra) -> dict:
        body = activity(text, conversation_id=conversation, **extra)
        body["from"]["name"] = f"Practitioner {canary}"
        body["channelData"]["note"] = canary
        return body

    async def no_blob_holds_canary() -> dict[str, str]:
        stored = await blob_texts(azurite.connection_string, container_name)
        assert not [name for name, text in stored.items() if canary in text or canary in name]
        return stored

    async def scenario():
        await bot.post(planted(f"a child has just disclosed to me, her name is Ada {canary}"))
        await no_blob_holds_canary()
        await bot.post(planted("no"))
        await no_blob_holds_canary()
        await bot.post(planted(f"what if {canary} sent photos?"))
        await no_blob_holds_canary()
        click = planted("", value={"action": "flow", "choice": "continue", "step": "with-child", "extra": canary})
        payload = await bot.post(click)
        assert steps_shown(payload, knowledge.flow) == ["topic"]
        stored = await no_blob_holds_canary()
        assert any("with-child" in text and EXPIRES_KEY in text for text in stored.values()), "state was not stored"

        await asyncio.sleep(ttl_seconds + 1)
        payload = await bot.post(planted("images or videos"))
        assert "images-or-videos" not in steps_shown(payload, knowledge.flow), "expired state was used"
        stored = await no_blob_holds_canary()
        assert not any("with-child" in text for text in stored.values()), "expired state is still stored"

    await asyncio.wait_for(scenario(), SCENARIO_SECONDS)


@pytest.mark.parametrize("outage", ["stopped", "hung"])
async def test_storage_outage_mid_flow_gives_999_and_routes_then_resumes(
    own_azurite, container_name, start_bot, knowledge, outage
):
    bot = start_bot(own_azurite, container_name)
    conversation = new_conversation()
    emergency = knowledge.messages.text("emergency")
    at_risk_title = next(need.title for need in knowledge.directory.needs() if need.id == "child-at-risk-now")

    async def scenario():
        for text, _step in FLOW[:3]:
            await bot.post(activity(text, conversation_id=conversation))
        assert await bot.readyz() == 200

        own_azurite.stop() if outage == "stopped" else own_azurite.freeze()
        payload = await bot.post(activity("images or videos", conversation_id=conversation))
        texts = reply_texts(payload)
        # the emergency card: its line, then its tap-to-call button
        assert texts[0] == emergency + "\nCall 999"
        routes = next(text for text in texts if text.startswith(at_risk_title))
        assert "999" in routes
        assert steps_shown(payload, knowledge.flow) == []
        assert await bot.readyz() == 503

        own_azurite.start() if outage == "stopped" else own_azurite.thaw()
        deadline = time.monotonic() + 30
        while await bot.readyz() != 200:
            assert time.monotonic() < deadline, "not ready after storage came back"
            await asyncio.sleep(0.2)
        payload = await bot.post(activity("images or videos", conversation_id=conversation))
        assert steps_shown(payload, knowledge.flow) == ["images-or-videos"], reply_texts(payload)

    try:
        await asyncio.wait_for(scenario(), SCENARIO_SECONDS)
    finally:
        own_azurite.thaw()
