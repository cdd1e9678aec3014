"""The one wrapper around botbuilder-testing's DialogTestClient: a conversation with one dialog,
seen the way the user sees it (every reply of a turn, cards rendered as their plain text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from botbuilder.core import ConversationState, MemoryStorage
from botbuilder.dialogs import Dialog, DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.testing import DialogTestClient

from bot.cards.common import Choice, Reply, card_to_text
from dialogs.disclosure_dialog import DisclosureDialog
from knowledge.disclosure import DisclosureFlow

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
#: A fixed start time: 09:41 UTC on 25 November 2026 is 09:41 UK time (GMT).
FIXED_NOW = datetime(2026, 11, 25, 9, 41, tzinfo=timezone.utc)
NATIONAL_ROUTES_TITLE = "National routes (stub)"
POSH_TITLE = "Professionals Online Safety Helpline (stub)"


@dataclass(frozen=True)
class Seen:
    """One message as the user sees it: its text (a card as text) and its buttons' submit data."""

    text: str
    buttons: tuple[dict, ...]
    is_card: bool


def seen(activity: Activity) -> Seen:
    for attachment in activity.attachments or []:
        if attachment.content_type == ADAPTIVE_CARD:
            text, choices = card_to_text(attachment.content)
            return Seen(text, tuple(c.data for c in choices if isinstance(c, Choice) and c.data), True)
    return Seen(activity.text or "", (), False)


def stub_act_routes() -> list[Reply]:
    return [Reply.plain(NATIONAL_ROUTES_TITLE)]


def stub_service_routes(service_ids) -> list[Reply]:
    """Contact cards for the services a step names; only POSH (the closing step) is stubbed."""
    return [Reply.plain(POSH_TITLE)] if "posh" in service_ids else []


def stub_answer_question(text: str) -> list[Reply] | None:
    """Answers only questions about CEOP, like a tiny FAQ that knows when it doesn't know."""
    if "ceop" in text.lower():
        return [Reply.plain("CEOP (stub answer): part of the National Crime Agency.")]
    return None


@lru_cache(maxsize=1)
def _real_triage_rules():
    from knowledge.triage import load_triage_rules

    return load_triage_rules()


@lru_cache(maxsize=1)
def shared_messages():
    """The bot's real shared wording (messages.yaml): the guide's 999 line comes from it."""
    from knowledge.messages import load_messages

    return load_messages()


def shared_triage():
    """The bot's own triage with its real rules, as the bot wires it."""
    from knowledge.triage import triage

    rules = _real_triage_rules()
    return lambda text: triage(text, rules)


def make_dialog(flow: DisclosureFlow, **overrides: Any) -> DisclosureDialog:
    """The guide as the bot wires it (shared triage and wording), with stub routes and answers."""
    kwargs: dict[str, Any] = {
        "act_routes": stub_act_routes,
        "service_routes": stub_service_routes,
        "answer_question": stub_answer_question,
        "clock": lambda: FIXED_NOW,
        "messages": shared_messages(),
        "triage_rules": _real_triage_rules(),
    }
    kwargs.update(overrides)
    return DisclosureDialog(flow, **kwargs)


class Conversation:
    """A scripted conversation with one dialog over a given storage.

    Two Conversations over the same storage are the same chat after a restart of the bot: a new
    dialog instance, a new dialog set, the state only in storage.
    """

    def __init__(self, dialog: Dialog, *, storage: MemoryStorage | None = None, channel: str = "test") -> None:
        self.storage = storage if storage is not None else MemoryStorage()
        self.channel = channel
        self.client = DialogTestClient(channel, dialog, conversation_state=ConversationState(self.storage))
        self.transcript: list[Seen] = []

    async def send(self, text: str | None = None, value: dict | None = None) -> list[Seen]:
        """One user turn; every reply the bot sends in that turn, in order."""
        activity = Activity(type=ActivityTypes.message, text=text, value=value)
        adapter = self.client.test_adapter
        await adapter.receive_activity(activity)
        replies: list[Seen] = []
        while (reply := adapter.get_next_activity()) is not None:
            if reply.type == ActivityTypes.message:
                replies.append(seen(reply))
        self.transcript.extend(replies)
        return replies

    async def say(self, text: str) -> list[Seen]:
        return await self.send(text=text)

    async def click(self, choice: str, step: str | None = None) -> list[Seen]:
        value = {"action": "flow", "choice": choice}
        if step is not None:
            value["step"] = step
        return await self.send(value=value)

    @property
    def status(self) -> DialogTurnStatus:
        return self.client.dialog_turn_result.status

    @property
    def active(self) -> bool:
        return self.status == DialogTurnStatus.Waiting

    async def stored(self) -> str:
        """Everything the conversation state holds in storage, as one string (for privacy checks)."""
        key = f"{self.channel}/conversations/Convo1"
        return _dump(await self.storage.read([key]))


def _dump(value: Any) -> str:
    """Every value inside stored state, objects included (MemoryStorage keeps objects as-is)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_dump(k)}: {_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    if hasattr(value, "__dict__"):
        return _dump(vars(value))
    return repr(value)


def texts(replies: list[Seen]) -> str:
    return "\n---\n".join(reply.text for reply in replies)


def last_step_buttons(replies: list[Seen]) -> tuple[dict, ...]:
    cards = [reply for reply in replies if reply.buttons]
    return cards[-1].buttons if cards else ()


__all__ = [
    "Conversation",
    "FIXED_NOW",
    "NATIONAL_ROUTES_TITLE",
    "POSH_TITLE",
    "Seen",
    "make_dialog",
    "shared_messages",
    "shared_triage",
    "seen",
    "stub_act_routes",
    "stub_answer_question",
    "stub_service_routes",
    "texts",
    "last_step_buttons",
]
