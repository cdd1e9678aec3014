"""Turn a channel-neutral Reply into an activity: an Adaptive Card where the channel shows cards,
the plain-text rendering everywhere else."""

from __future__ import annotations

from typing import Iterable

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity

from bot.cards.common import Reply

# Channels that render Adaptive Cards. "console" is tools/chat.py, which renders them as text.
CARD_CHANNELS = frozenset({"msteams", "webchat", "emulator", "directline", "test", "console"})


def supports_cards(channel_id: str | None) -> bool:
    return channel_id in CARD_CHANNELS


def reply_activity(reply: Reply, channel_id: str | None) -> Activity:
    if reply.card is not None and supports_cards(channel_id):
        return MessageFactory.attachment(CardFactory.adaptive_card(reply.card))
    return MessageFactory.text(reply.text)


async def send_replies(context: TurnContext, replies: Iterable[Reply]) -> None:
    activities = [reply_activity(reply, context.activity.channel_id) for reply in replies]
    if activities:
        await context.send_activities(activities)
