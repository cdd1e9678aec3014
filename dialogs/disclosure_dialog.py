"""The "a child has just disclosed" guide as a dialog: mechanics only, no wording.

One waterfall of two steps runs each step of the flow: ``show_step`` sends the step's card and
waits; ``take_answer`` moves to the step the answer leads to by restarting the waterfall with the
new position (the loop pattern of the botbuilder samples). The position is the waterfall's
options: the step ids taken so far and the time the guide started. Nothing a person typed, and
no name, is ever put in dialog state.

Before the waterfall sees a message, ``interrupt`` deals with what can happen at any step: signs
of a child in immediate danger (call 999 first), identifying details (a reminder, never an echo),
cancel, start again, back, help, a click on an earlier step's card, and questions asked mid-flow
(answered, then back to the same step, saying so).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Literal, Protocol, Sequence

from botbuilder.core import TurnContext
from botbuilder.dialogs import (
    Dialog,
    DialogContext,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)

from bot.cards.common import Reply
from bot.cards.disclosure import FLOW_ACTION, notice_reply, step_reply, summary_reply
from dialogs.base import InterruptibleDialog, send_replies
from knowledge.disclosure import CONTROL_IDS, DisclosureFlow, looks_like_question

STEP_LOOP = "disclosure-step"
_ANSWER = "disclosure.answer"

log = logging.getLogger(__name__)


class TurnSignals(Protocol):
    """What triage says about a message (``knowledge.triage.Triage`` has these attributes)."""

    intent: str | None
    emergency: bool
    identifying_details: bool


class MessageLookup(Protocol):
    def text(self, key: str) -> str: ...


Replies = Sequence[Reply]


@dataclass(frozen=True)
class FlowPosition:
    """Where the practitioner is: step ids taken (last = current) and when the guide started."""

    path: tuple[str, ...]
    started_at: str  # ISO 8601, UTC

    @classmethod
    def begin(cls, start: str, now: datetime) -> "FlowPosition":
        return cls(path=(start,), started_at=now.astimezone(timezone.utc).isoformat())

    @classmethod
    def from_state(cls, state: Any) -> "FlowPosition | None":
        if not isinstance(state, dict):
            return None
        path, started_at = state.get("path"), state.get("started_at")
        if not isinstance(path, list) or not path or not all(isinstance(s, str) for s in path):
            return None
        if not isinstance(started_at, str):
            return None
        try:
            if datetime.fromisoformat(started_at).tzinfo is None:
                return None
        except ValueError:
            return None
        return cls(path=tuple(path), started_at=started_at)

    def to_state(self) -> dict:
        return {"path": list(self.path), "started_at": self.started_at}

    @property
    def current(self) -> str:
        return self.path[-1]

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    def forward(self, step_id: str) -> "FlowPosition":
        return FlowPosition(path=(*self.path, step_id), started_at=self.started_at)

    def back(self) -> "FlowPosition":
        return FlowPosition(path=self.path[:-1] or self.path, started_at=self.started_at)


@dataclass(frozen=True)
class Resolution:
    """What a message means at the current step. ``target`` is a choice or control id."""

    kind: Literal["answer", "control", "stale", "question", "reprompt", "unknown"]
    target: str | None = None
    emergency: bool = False
    identifying: bool = False
    wrong_terms: bool = False
    #: triage failed on this message: nobody checked it for danger, so the 999 line is shown
    danger_unchecked: bool = False
    answers: tuple[Reply, ...] = ()


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _no_routes(*_args: object) -> list[Reply]:
    return []


def _no_answer(_text: str) -> None:
    return None


class DisclosureDialog(InterruptibleDialog):
    """Step-by-step guide for a practitioner a child has just disclosed to.

    Everything it says comes from ``flow`` (``knowledge.disclosure.load_flow()``) or from the
    callables it is given, so the bot decides how routes and answers are found:

    - ``act_routes()``: referral routes for the "act" step (e.g. the directory's routes for
      "refer-to-childrens-social-care").
    - ``danger_routes()``: the routes for a child at risk now, shown under the guide's 999 step
      (the step an emergency answer leads to); optional.
    - ``service_routes(service_ids)``: contact cards for the services a step names (CEOP, Report
      Remove); optional, the steps name the services in words either way.
    - ``answer_question(text)``: replies for a question typed mid-flow, or None/[] if it has none.
    - ``messages``: the bot's shared wording (``.text(key)``, ``knowledge.messages``); required:
      its "emergency" text is the guide's 999 line, so it reads the same everywhere, and its
      "privacy_reminder" and "wrong_term" texts are used when present.
    - ``triage`` (``text -> signals``) or ``triage_rules`` (then ``knowledge.triage.triage`` is
      used); one is required: the guide has no danger word list of its own, so what counts as
      danger is decided in one place.
    - ``clock``: aware datetimes; ``expire_after``: a guide left open longer than this is closed.
    """

    def __init__(
        self,
        flow: DisclosureFlow,
        *,
        act_routes: Callable[[], Replies],
        service_routes: Callable[[Sequence[str]], Replies] | None = None,
        danger_routes: Callable[[], Replies] | None = None,
        answer_question: Callable[[str], Replies | None] | None = None,
        messages: MessageLookup,
        triage: Callable[[str], TurnSignals] | None = None,
        triage_rules: object | None = None,
        clock: Callable[[], datetime] | None = None,
        expire_after: timedelta | None = None,
        dialog_id: str = "disclosure",
    ) -> None:
        super().__init__(dialog_id)
        self.flow = flow
        self._act_routes = act_routes
        self._service_routes = service_routes or _no_routes
        self._danger_routes = danger_routes or _no_routes
        # the guide's 999 step(s): where an emergency answer leads
        self._danger_steps = frozenset(
            c.next for i in flow.step_ids for c in flow.step(i).choices if c.emergency and c.next is not None
        )
        self._answer_question = answer_question or _no_answer
        self._messages = messages
        signals = triage or _shared_triage(triage_rules)
        if signals is None:
            raise ValueError("DisclosureDialog needs the shared triage: pass triage or triage_rules")
        self._signals = signals
        # Read now, so wording without a 999 line fails when the bot is built, not mid-emergency.
        self._emergency_text = messages.text("emergency")
        # The short conditional line said first whenever the guide did not understand a message.
        self._unsure_text = self._shared_text("unsure_999", "If a child is in immediate danger, call 999 now.")
        self._clock = clock or _utc_now
        self._expire_after = expire_after
        self.add_dialog(WaterfallDialog(STEP_LOOP, [self.show_step, self.take_answer]))
        self.initial_dialog_id = STEP_LOOP

    # ------------------------------------------------------------------ waterfall

    async def on_begin_dialog(self, inner_dc: DialogContext, options: object) -> DialogTurnResult:
        position = FlowPosition.begin(self.flow.start, self._now())
        log.info("disclosure_started", extra={"outcome": "disclosure_started"})
        return await inner_dc.begin_dialog(STEP_LOOP, position.to_state())

    async def show_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        position = FlowPosition.from_state(step_context.options)
        if position is None or not self.flow.has_step(position.current):
            return await self._lost(step_context)
        step = self.flow.step(position.current)
        log.info("disclosure_step", extra={"step": step.id, "outcome": "disclosure_step"})
        if step.ends_flow:
            await send_replies(step_context.context, self._closing_replies(position))
            return await step_context.end_dialog()
        danger = step.id in self._danger_steps
        replies = [step_reply(self.flow, step.id, call_999=danger)]
        if danger:
            replies.extend(self._safely(self._danger_routes))
        if step.services:
            replies.extend(self._safely(self._service_routes, tuple(step.services)))
        if step.referral_routes:
            replies.extend(self._safely(self._act_routes))
        await send_replies(step_context.context, replies)
        return Dialog.end_of_turn

    async def take_answer(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        position = FlowPosition.from_state(step_context.options)
        if position is None or not self.flow.has_step(position.current):
            return await self._lost(step_context)
        answer = step_context.context.turn_state.pop(_ANSWER, None)
        choice = self.flow.choice(position.current, answer) if isinstance(answer, str) else None
        if choice is None or choice.next is None:
            return await step_context.replace_dialog(STEP_LOOP, position.to_state())
        return await step_context.replace_dialog(STEP_LOOP, position.forward(choice.next).to_state())

    def _closing_replies(self, position: FlowPosition) -> list[Reply]:
        step = self.flow.step(position.current)
        summary = self.flow.summary(position.path, position.started)
        replies = [summary_reply(summary, self.flow.messages.summary_copy), step_reply(self.flow, step.id)]
        replies.extend(self._safely(self._service_routes, tuple(step.services)))
        return replies

    async def _lost(self, dialog_context: DialogContext) -> DialogTurnResult:
        """State from an older version of the flow: say so safely (999 first if needed), start again."""
        log.warning("disclosure_state_unreadable", extra={"outcome": "disclosure_restarted"})
        replies = [Reply.plain(self.flow.messages.restarted)]
        text = (dialog_context.context.activity.text or "").strip()
        if text and ((signals := self._triage(text)) is None or getattr(signals, "emergency", False)):
            replies.insert(0, self._emergency_notice())
        await send_replies(dialog_context.context, replies)
        position = FlowPosition.begin(self.flow.start, self._now())
        return await dialog_context.replace_dialog(STEP_LOOP, position.to_state())

    # ------------------------------------------------------------------ interruptions

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        context = inner_dc.context
        position = FlowPosition.from_state(
            inner_dc.active_dialog.state.get(WaterfallDialog.PersistedOptions) if inner_dc.active_dialog else None
        )
        if position is None or not self.flow.has_step(position.current):
            return await self._lost(inner_dc)
        messages = self.flow.messages
        if self._expired(position):
            # Danger is checked before the guide is closed: "he is hurting her right now" to an
            # old guide still gets the 999 line first, then the note that the guide has closed.
            replies = [self._emergency_notice()] if self._signals_danger(context, position.current) else []
            replies.append(Reply.plain(messages.expired))
            log.info("disclosure_expired", extra={"outcome": "disclosure_expired"})
            await send_replies(context, replies)
            return await inner_dc.cancel_all_dialogs()

        found = self._resolve(context, position.current)
        replies = self._safety_notices(found, position.current)
        log.info("disclosure_turn", extra={"step": position.current, "outcome": f"disclosure_{found.kind}"})

        if found.kind == "answer":
            await send_replies(context, replies)
            context.turn_state[_ANSWER] = found.target
            return None
        if found.kind == "control":
            return await self._control(inner_dc, position, found.target or "help", replies)
        if found.kind == "stale":
            replies.append(Reply.plain(messages.stale_choice))
            replies.append(self._resume_notice(position))
        elif found.kind == "question":
            replies.extend(found.answers)
            replies.append(self._resume_notice(position))
        elif found.kind == "reprompt":
            replies.append(self._resume_notice(position))
        else:
            if not (found.emergency or found.danger_unchecked):
                replies.insert(0, Reply.plain(self._unsure_text))  # unsure: the 999 line first
            replies.append(Reply.plain(messages.not_understood))
        await send_replies(context, replies)
        return await inner_dc.replace_dialog(STEP_LOOP, position.to_state())

    async def _control(
        self, inner_dc: DialogContext, position: FlowPosition, control: str, replies: list[Reply]
    ) -> DialogTurnResult:
        messages = self.flow.messages
        context = inner_dc.context
        if control == "cancel":
            replies.append(Reply.plain(messages.cancelled))
            await send_replies(context, replies)
            log.info("disclosure_cancelled", extra={"step": position.current, "outcome": "disclosure_cancelled"})
            return await inner_dc.cancel_all_dialogs()
        if control == "restart":
            replies.append(Reply.plain(messages.restarted))
            await send_replies(context, replies)
            fresh = FlowPosition.begin(self.flow.start, self._now())
            return await inner_dc.replace_dialog(STEP_LOOP, fresh.to_state())
        if control == "back":
            if len(position.path) > 1:
                await send_replies(context, replies)
                return await inner_dc.replace_dialog(STEP_LOOP, position.back().to_state())
            replies.append(Reply.plain(messages.first_step))
        else:
            replies.append(Reply.plain(messages.help))
        await send_replies(context, replies)
        return await inner_dc.replace_dialog(STEP_LOOP, position.to_state())

    def _safety_notices(self, found: Resolution, step_id: str) -> list[Reply]:
        """999 first, then a correction of the wrong term (when the bot's shared wording is
        given), then the privacy reminder: the order the rest of the bot uses. No separate 999
        notice when the answer itself leads to the "call 999" step: that step is then first."""
        notices: list[Reply] = []
        answer_is_emergency = found.kind == "answer" and bool(
            found.target and (choice := self.flow.choice(step_id, found.target)) and choice.emergency
        )
        if (found.emergency or found.danger_unchecked) and not answer_is_emergency:
            notices.append(self._emergency_notice())
        if found.wrong_terms and (correction := self._shared_text("wrong_term", "")):
            notices.append(notice_reply(correction))
        if found.identifying:
            notices.append(
                notice_reply(self._shared_text("privacy_reminder", self.flow.messages.identifying_details))
            )
        return notices

    def _emergency_notice(self) -> Reply:
        return notice_reply(self._emergency_text, urgent=True)

    def _signals_danger(self, context: TurnContext, step_id: str) -> bool:
        """Does this message (typed, or a click on an emergency answer) signal immediate danger?"""
        value = context.activity.value
        if isinstance(value, dict) and value.get("action") == FLOW_ACTION:
            return self._resolve_click(value, step_id).emergency
        text = (context.activity.text or "").strip()
        if not text:
            return False
        signals = self._triage(text)
        return signals is None or bool(getattr(signals, "emergency", False))

    def _resume_notice(self, position: FlowPosition) -> Reply:
        return Reply.plain(self.flow.messages.resume.format(step=self.flow.step(position.current).title))

    # ------------------------------------------------------------------ reading a message

    def _resolve(self, context: TurnContext, step_id: str) -> Resolution:
        value = context.activity.value
        if isinstance(value, dict) and value.get("action") == FLOW_ACTION:
            return self._resolve_click(value, step_id)
        text = (context.activity.text or "").strip()
        if not text:
            return Resolution("unknown")
        return self._resolve_text(text, step_id)

    def _resolve_click(self, value: dict, step_id: str) -> Resolution:
        choice_id, clicked_step = value.get("choice"), value.get("step")
        if not isinstance(choice_id, str):
            return Resolution("unknown")
        if choice_id in CONTROL_IDS:
            return Resolution("control", choice_id)
        if not isinstance(clicked_step, str) or not self.flow.has_step(clicked_step):
            clicked_step = step_id
        clicked = self.flow.choice(clicked_step, choice_id)
        if clicked is None:
            return Resolution("unknown")
        if clicked_step != step_id:
            return Resolution("stale", choice_id, emergency=clicked.emergency)
        return Resolution("answer", choice_id, emergency=clicked.emergency)

    def _resolve_text(self, text: str, step_id: str) -> Resolution:
        signals = self._triage(text)
        if signals is None:
            target = self.flow.interpret_answer(step_id, text)
            kind = "control" if target in CONTROL_IDS else "answer" if target else "reprompt"
            return Resolution(kind, target, danger_unchecked=True)
        emergency = bool(getattr(signals, "emergency", False))
        identifying = bool(getattr(signals, "identifying_details", False))
        intent = getattr(signals, "intent", None)
        wrong_terms = bool(getattr(signals, "wrong_terms", ()))
        flags = {"emergency": emergency, "identifying": identifying, "wrong_terms": wrong_terms}

        target = self.flow.interpret_answer(step_id, text)
        if target is None and intent in CONTROL_IDS:
            target = intent
        if target in CONTROL_IDS:
            return Resolution("control", target, **flags)
        target = target or self.flow.choice_for_intent(step_id, intent)
        if target is None and emergency:
            target = self.flow.emergency_choice(step_id)
        if target is not None:
            return Resolution("answer", target, **flags)
        if identifying or emergency:
            # Never pass identifying details on; after a 999 notice, go straight back to the step.
            return Resolution("reprompt", **flags)
        if self.flow.is_answer_elsewhere(text) or not looks_like_question(text):
            return Resolution("unknown", **flags)
        answers = tuple(self._safely(self._answer_question, text) or ())
        if answers:
            return Resolution("question", answers=answers, **flags)
        return Resolution("unknown", **flags)

    def _triage(self, text: str) -> TurnSignals | None:
        """The shared triage's reading of the message, or None if it failed (the guide goes on,
        and says the 999 line, since the message could not be checked for danger)."""
        try:
            return self._signals(text)
        except Exception as error:  # a triage fault must not stop the guide
            log.error("disclosure_triage_failed", extra={"error": type(error).__name__})
            return None

    # ------------------------------------------------------------------ helpers

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=timezone.utc)

    def _expired(self, position: FlowPosition) -> bool:
        if self._expire_after is None:
            return False
        try:
            return self._now() - position.started > self._expire_after
        except ValueError:
            return True

    def _shared_text(self, key: str, fallback: str) -> str:
        try:
            return self._messages.text(key)
        except (KeyError, AttributeError):
            return fallback

    @staticmethod
    def _safely(produce: Callable[..., Replies | None], *args: object) -> list[Reply]:
        """Routes and answers come from other parts of the bot: a fault there must not end the guide."""
        try:
            return list(produce(*args) or [])
        except Exception as error:
            log.error("disclosure_callable_failed", extra={"error": type(error).__name__})
            return []


def _shared_triage(rules: object | None) -> Callable[[str], TurnSignals] | None:
    """The bot's shared triage with these rules, or None when no rules are given."""
    if rules is None:
        return None
    from knowledge.triage import triage

    return lambda text: triage(text, rules)
