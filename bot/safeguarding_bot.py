"""The Teams activity handler: routes each turn to emergency advice, the disclosure guide,
referral routes or the FAQ. It only turns domain results into replies; the thinking is in
knowledge/ (triage, matching, directory) and the flow mechanics in dialogs/.

Order matters and is the safety contract of the bot:
1. an attachment is never opened: explain why, say what to do instead;
2. if the message signals a child in immediate danger, the FIRST reply says call 999;
3. the wrong term gets a kind correction, identifying details a privacy reminder (never echoed);
4. then the disclosure guide (if running or asked for), referral routes, or the FAQ.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Callable

from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import DialogSet
from botbuilder.schema import Activity, ActivityTypes

from bot.cards import faq as faq_cards
from bot.cards import referrals as referral_cards
from bot.cards.common import Reply
from bot.cards.general import (
    disclosure_maybe_reply,
    emergency_reply,
    guide_offer_reply,
    help_reply,
    welcome_reply,
    with_999_line,
)
from bot.logs import bot_logger, hash_id
from bot.replies import send_replies
from bot.settings import Settings
from dialogs.disclosure_dialog import DisclosureDialog
from knowledge.loader import Knowledge
from knowledge.referrals import ReferralQuery
from knowledge.triage import Triage, triage, with_right_terms

PERSONAL = "personal"
# The card verbs the bot builds (bot/cards/common.py); anything else is answered with help.
CARD_VERBS = frozenset({"faq", "feedback", "topics", "topic", "help", "disclosure_start", "flow", "referrals", "route"})
# Messages longer than this are triaged on a worker thread, so a long message's triage never holds
# the event loop that answers everyone else (and /healthz); shorter ones cost well under 1 ms.
TRIAGE_OFF_LOOP_CHARS = 2_000
#: This turn's triage, so the guide reads the message once (never stored: it lives for one turn).
_TURN_TRIAGE: ContextVar[tuple[str, Triage] | None] = ContextVar("turn_triage", default=None)
# Teams sends formatted messages with a text/html copy of the text as an "attachment": that is
# the message itself, not a file. Everything else (images, files, file download info) is a file.
MESSAGE_BODY_TYPES = frozenset({"text/html", "text/plain"})


def user_files(activity: Activity) -> list:
    return [a for a in (activity.attachments or []) if (a.content_type or "").lower() not in MESSAGE_BODY_TYPES]


def mentions_recipient(activity: Activity) -> bool:
    """Does the message @mention the bot (a Teams "mention" entity naming the recipient)?"""
    recipient = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        mentioned = (getattr(entity, "additional_properties", None) or {}).get("mentioned")
        if isinstance(mentioned, dict) and mentioned.get("id") == recipient:
            return True
    return False


class FeedbackCounter:
    """Helpful / not-helpful clicks per FAQ entry id. Counts ids only, never text."""

    def __init__(self) -> None:
        self.helpful: Counter[str] = Counter()
        self.not_helpful: Counter[str] = Counter()

    def record(self, entry_id: str, helpful: bool) -> None:
        (self.helpful if helpful else self.not_helpful)[entry_id] += 1


class SafeguardingBot(TeamsActivityHandler):
    def __init__(
        self,
        settings: Settings,
        knowledge: Knowledge,
        conversation_state: ConversationState,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.knowledge = knowledge
        self.conversation_state = conversation_state
        self.clock = clock or knowledge.clock
        self.feedback = FeedbackCounter()
        self.log = bot_logger()
        self._dialog_state = conversation_state.create_property("DialogState")
        self._welcomed = conversation_state.create_property("Welcomed")
        self.dialogs = DialogSet(self._dialog_state)
        self.disclosure = DisclosureDialog(
            flow=knowledge.flow,
            messages=knowledge.messages,
            triage=self._triage,
            answer_question=self.answer_in_flow,
            act_routes=self.act_routes,
            danger_routes=lambda: [self._at_risk_routes()],
            service_routes=self.service_routes,
            clock=self.clock,
            expire_after=timedelta(seconds=settings.state_ttl_seconds),
        )
        self.dialogs.add(self.disclosure)

    # ---------------------------------------------------------------- turn plumbing

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self.conversation_state.save_changes(turn_context)

    def _outcome(self, context: TurnContext, outcome: str) -> None:
        context.turn_state["outcome"] = outcome

    async def refuse_tenant(self, context: TurnContext) -> None:
        """An activity from a tenant not on the allow-list: a polite refusal, nothing stored."""
        self._outcome(context, "tenant_refused")
        self.log.warning("tenant_refused", extra={"conversation": self._conv(context)})
        if context.activity.type == ActivityTypes.message:
            await context.send_activity(self.knowledge.messages.text("tenant_refused"))

    def _conv(self, context: TurnContext) -> str:
        conversation = context.activity.conversation
        return hash_id(conversation.id if conversation else None, self.settings.log_salt)

    def _is_personal(self, context: TurnContext) -> bool:
        conversation = context.activity.conversation
        kind = getattr(conversation, "conversation_type", None) if conversation else None
        return kind in (None, PERSONAL)

    def _text(self, reply_key: str) -> Reply:
        return Reply.plain(self.knowledge.messages.text(reply_key))

    def _help(self) -> Reply:
        return help_reply(self.knowledge.messages.text("help"))

    def _unsure(self, reply: Reply) -> Reply:
        """A reply where the bot is unsure what the message meant: the 999 line first."""
        return with_999_line(reply, self.knowledge.messages.text("unsure_999"))

    def _emergency_card(self) -> Reply:
        return emergency_reply(self.knowledge.messages.text("emergency"))

    def _guide_offer(self) -> Reply:
        return guide_offer_reply(self.knowledge.messages.text("emergency_guide_offer"))

    def _triage(self, text: str) -> Triage:
        """Triage, read once per turn (the guide asks again for the same text)."""
        cached = _TURN_TRIAGE.get()
        if cached is not None and cached[0] == " ".join(text.split()):
            return cached[1]
        return triage(text, self.knowledge.triage_rules)

    async def _triage_turn(self, text: str) -> Triage:
        """This turn's triage; a long message's on a worker thread (see TRIAGE_OFF_LOOP_CHARS)."""
        if len(text) > TRIAGE_OFF_LOOP_CHARS:
            found = await asyncio.to_thread(triage, text, self.knowledge.triage_rules)
        else:
            found = triage(text, self.knowledge.triage_rules)
        _TURN_TRIAGE.set((text, found))
        return found

    # ---------------------------------------------------------------- welcome

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome_once(turn_context)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        # Not the SDK's Teams dispatch: that calls the Teams API for every added member.
        recipient = turn_context.activity.recipient
        added = turn_context.activity.members_added or []
        if recipient is not None and any(member.id == recipient.id for member in added):
            await self._welcome_once(turn_context)

    async def _welcome_once(self, context: TurnContext) -> None:
        if await self._welcomed.get(context, False):
            return
        await self._welcomed.set(context, True)
        self._outcome(context, "welcome")
        await send_replies(context, [welcome_reply(self.knowledge.messages.text("welcome"))])

    # ---------------------------------------------------------------- edits and deletions

    async def on_message_update_activity(self, turn_context: TurnContext) -> None:
        await self._forget_conversation(turn_context, "message_edited")
        text = self._message_text(turn_context)
        if text and (await self._triage_turn(text)).emergency:
            # An edit that now says a child is in danger still gets 999 first, and the routes.
            self._outcome(turn_context, "emergency_in_edit")
            await send_replies(turn_context, self.emergency_replies())

    async def on_message_delete_activity(self, turn_context: TurnContext) -> None:
        await self._forget_conversation(turn_context, "message_deleted")

    async def _forget_conversation(self, context: TurnContext, outcome: str) -> None:
        """A practitioner who edits or deletes a message takes back what they said: purge what the
        conversation stored (where they were in the guide and what they answered), say nothing."""
        self._outcome(context, outcome)
        await self.conversation_state.load(context)
        await self.conversation_state.delete(context)

    # ---------------------------------------------------------------- messages

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        clicked = isinstance(activity.value, dict)
        if not self._is_personal(turn_context) and not clicked and not mentions_recipient(activity):
            # Group chats and channels: only messages that @mention the bot are for it.
            self._outcome(turn_context, "not_mentioned")
            return
        if activity.channel_id == "msteams":
            await turn_context.send_activity(Activity(type=ActivityTypes.typing))

        if user_files(activity):
            self._outcome(turn_context, "attachment_refused")
            await send_replies(turn_context, await self._emergency_first(turn_context, self._text("attachment")))
            return

        if isinstance(activity.value, dict) and activity.value.get("action"):
            await self._on_card_action(turn_context, activity.value)
            return

        text = self._message_text(turn_context)
        if not text:
            self._outcome(turn_context, "empty")
            await send_replies(turn_context, [self._text("unsupported")])
            return
        if len(text) > self.settings.max_message_chars:
            self._outcome(turn_context, "too_long")
            await send_replies(turn_context, await self._emergency_first(turn_context, self._text("too_long")))
            return
        await self._triage_turn(text)
        await self._on_text(turn_context, text)

    async def _emergency_first(self, context: TurnContext, reply: Reply) -> list[Reply]:
        """A reply for a message the bot won't read in full (an attachment, an over-long message):
        if its text still signals immediate danger, 999 and the routes come first. Triage reads
        at most ``knowledge.triage.MAX_TRIAGE_CHARS`` (more than Teams sends), in linear time."""
        text = self._message_text(context)
        if text and (await self._triage_turn(text)).emergency:
            return [*self.emergency_replies(), reply]
        return [reply]

    def _message_text(self, context: TurnContext) -> str:
        """The message without the @mention of the bot (Teams puts "<at>Bot</at>" in the text).

        Not the SDK's remove_recipient_mention: it raises on a mention entity without text."""
        text = context.activity.text if isinstance(context.activity.text, str) else ""
        recipient = context.activity.recipient.id if context.activity.recipient else None
        for entity in context.activity.entities or []:
            if getattr(entity, "type", None) != "mention":
                continue
            properties = getattr(entity, "additional_properties", None) or {}
            mentioned = properties.get("mentioned")
            mention_text = properties.get("text")
            if isinstance(mentioned, dict) and mentioned.get("id") == recipient and isinstance(mention_text, str):
                text = text.replace(mention_text, " ")
        return " ".join(text.split())

    async def _dialog_context(self, context: TurnContext):
        return await self.dialogs.create_context(context)

    async def _on_text(self, context: TurnContext, text: str) -> None:
        dialog_context = await self._dialog_context(context)
        if dialog_context.active_dialog is not None:
            self._outcome(context, "disclosure_continue")
            await dialog_context.continue_dialog()
            return

        found = self._triage(text)
        replies = self._safety_preamble(found)
        if found.emergency:
            self._outcome(context, "emergency")
        note = context.turn_state.setdefault

        intent = found.intent
        if intent == "disclosure":
            if found.emergency:
                replies.append(self._at_risk_routes())  # 999, the routes, then the guide
            await send_replies(context, replies)
            await self._start_disclosure(context, dialog_context)
            return
        if intent == "disclosure_maybe":
            match = self.knowledge.matcher.match(text)
            best = match.best.entry_id if match.outcome == "answer" and match.best else None
            ask = disclosure_maybe_reply(self.knowledge.messages.text("disclosure_maybe"), best)
            replies.extend([self._at_risk_routes(), ask] if found.emergency else [self._unsure(ask)])
            note("outcome", "disclosure_ask")
            await send_replies(context, replies)
            return
        small_talk = {
            "greeting": lambda: self._text("greeting"),
            "thanks": lambda: self._text("thanks"),
            "goodbye": lambda: self._text("goodbye"),
            "identity": lambda: self._text("identity"),
            "topics": lambda: faq_cards.topics_reply(self.knowledge.faq),
            **dict.fromkeys(("help", "cancel", "restart", "back"), self._help),
            "referrals": lambda: self._referral_reply_for(
                self.knowledge.directory.interpret(text, self.clock()) or ReferralQuery(wants_all=True), self.clock()
            ),
        }
        if intent in small_talk:
            if found.emergency:
                replies.append(self._at_risk_routes())
            replies.append(small_talk[intent]())
            note("outcome", intent)
            await send_replies(context, replies)
            return

        answers, outcome, entry_id = self._answer(text, emergency=found.emergency, wrong_terms=bool(found.wrong_terms))
        note("outcome", outcome)
        if found.emergency:
            # 999 (the card above), the routes for a child at risk now, any sure answer, the guide
            answers = [self._at_risk_routes(), *answers, self._guide_offer()]
        if found.wrong_terms and entry_id and self.knowledge.faq.entry(entry_id).topic == "terminology":
            # The answer itself explains the right words: a separate correction would repeat it.
            replies = self._safety_preamble(found, correct_terms=False)
        await send_replies(context, replies + answers)

    def _safety_preamble(self, found: Triage, correct_terms: bool = True) -> list[Reply]:
        replies: list[Reply] = []
        if found.emergency:
            replies.append(self._emergency_card())
        if found.wrong_terms and correct_terms:
            replies.append(self._text("wrong_term"))
        if found.identifying_details:
            replies.append(self._text("privacy_reminder"))
        return replies

    def _answer(
        self, text: str, emergency: bool = False, wrong_terms: bool = False
    ) -> tuple[list[Reply], str, str | None]:
        """(replies, outcome code, answered FAQ entry id or None)."""
        now = self.clock()
        query = self.knowledge.directory.interpret(text, now)
        if query is not None and (query.route_ids or query.wants_all):
            return [self._referral_reply_for(query, now)], "referral_lookup", None

        result = self.knowledge.matcher.match(text)
        terminology = frozenset(e.id for e in self.knowledge.faq.entries_in("terminology"))
        answered = result.outcome == "answer" and result.best is not None
        if wrong_terms and (not answered or result.best.entry_id in terminology):
            # "found child porn on a colleague's laptop, what do I do": the wrong words pull the
            # message to the terminology entries, or to nothing; read it again in the right words,
            # without those entries (the kind correction has already said what the words should
            # be), and keep a terminology answer only when that reading finds nothing better
            practical = self.knowledge.matcher.match(
                with_right_terms(text, self.knowledge.triage_rules), excluding=terminology
            )
            if not answered or practical.outcome == "answer":
                result = practical
        if query is not None:
            # A need ("what counts as immediate danger?", "worried about a colleague"): a question
            # the FAQ answers with confidence gets that answer first, then the routes for the need
            # (not repeated when the emergency reply already lists a child at risk now's routes).
            routes = [] if emergency and query.need_id == "child-at-risk-now" else [self._referral_reply_for(query, now)]
            if result.outcome == "answer" and result.best is not None:
                return [self.faq_answer(result.best.entry_id), *routes], "faq_answer", result.best.entry_id
            if routes:
                return routes, "referral_lookup", None
        outcome = f"faq_{result.outcome}"
        if result.outcome == "answer" and result.best is not None:
            return [self.faq_answer(result.best.entry_id)], outcome, result.best.entry_id
        if emergency:
            return [], outcome, None  # the routes for a child at risk now come instead (_on_text)
        if result.outcome == "suggest" and result.suggestions:
            return [self._unsure(faq_cards.suggestions_reply(result, self.knowledge.faq))], outcome, None
        return [self._unsure(faq_cards.unknown_reply(self.knowledge.faq, self._posh_lines()))], outcome, None

    def _referral_reply_for(self, query: ReferralQuery, now: datetime) -> Reply:
        directory = self.knowledge.directory
        now = query.at or now  # "who do I ring at 2am": the routes for 2am
        label = query.at_label
        if query.need_id:
            return referral_cards.routes_reply(
                directory.routes_for(query.need_id, now), title=directory.need(query.need_id).title, answered_for=label
            )
        if len(query.route_ids) == 1:
            return referral_cards.route_reply(directory.advice_for(query.route_ids[0], now), answered_for=label)
        return referral_cards.routes_reply(directory.all_routes(now), title="Who to contact", answered_for=label)

    def _posh_lines(self) -> list[str]:
        return referral_cards.contact_lines(self.knowledge.directory.route("posh"))

    def faq_answer(self, entry_id: str) -> Reply:
        entry = self.knowledge.faq.by_id()[entry_id]
        lines: list[str] = []
        for service_id in entry.services or ():
            lines.extend(referral_cards.contact_lines(self.knowledge.directory.route(service_id)))
        return faq_cards.answer_reply(entry, self.knowledge.faq, service_lines=lines)

    def act_routes(self) -> list[Reply]:
        now = self.clock()
        return [
            referral_cards.routes_reply(
                self.knowledge.directory.routes_for("refer-to-childrens-social-care", now),
                title="Who to contact now",
            )
        ]

    def _at_risk_routes(self) -> Reply:
        directory = self.knowledge.directory
        need = directory.need("child-at-risk-now")
        return referral_cards.routes_reply(directory.routes_for(need.id, self.clock()), title=need.title)

    def emergency_replies(self) -> list[Reply]:
        """Call 999 (a card whose first button dials it), the routes for a child at risk now,
        then the offer of the guide. Needs nothing from storage."""
        return [self._emergency_card(), self._at_risk_routes(), self._guide_offer()]

    def outage_replies(self) -> list[Reply]:
        """When the state store is down or keeps conflicting: 999 and the routes first, then "try
        again" (the practitioner's place is kept)."""
        return [*self.emergency_replies(), self._text("storage_unavailable")]

    def service_routes(self, service_ids) -> list[Reply]:
        now = self.clock()
        return [referral_cards.route_reply(self.knowledge.directory.advice_for(i, now)) for i in service_ids]

    def answer_in_flow(self, text: str) -> list[Reply] | None:
        """A question typed mid-guide: answered only when the bot is sure, else the guide re-asks."""
        replies, outcome, _ = self._answer(text)
        return replies if outcome in ("referral_lookup", "faq_answer") else None

    async def _start_disclosure(self, context: TurnContext, dialog_context=None) -> None:
        if not self._is_personal(context):
            self._outcome(context, "disclosure_in_channel")
            await send_replies(context, [self._text("disclosure_in_channel")])
            return
        dialog_context = dialog_context or await self._dialog_context(context)
        await dialog_context.cancel_all_dialogs()
        context.turn_state.setdefault("outcome", "disclosure_start")
        await dialog_context.begin_dialog(self.disclosure.id)

    # ---------------------------------------------------------------- card clicks

    def _is_emergency_choice(self, value: dict) -> bool:
        flow = self.knowledge.flow
        step_id, choice_id = value.get("step"), value.get("choice")
        if not isinstance(step_id, str) or not flow.has_step(step_id):
            return False
        return any(choice.id == choice_id and choice.emergency for choice in flow.step(step_id).choices)

    async def _on_card_action(self, context: TurnContext, value: dict) -> None:
        action = value.get("action")
        directory = self.knowledge.directory
        faq = self.knowledge.faq
        now = self.clock()
        # Outcome codes are logged: only the bot's own verbs, never what a client put in the card.
        self._outcome(context, f"card_{action}" if action in CARD_VERBS else "card_unknown")

        if action == "flow":
            dialog_context = await self._dialog_context(context)
            if dialog_context.active_dialog is not None:
                await dialog_context.continue_dialog()
            elif self._is_emergency_choice(value):
                # "Yes, in immediate danger" clicked on a card from a guide that has ended.
                await send_replies(context, self.emergency_replies())
            else:
                await send_replies(context, [self._help()])
            return
        if action == "disclosure_start":
            await self._start_disclosure(context)
            return

        reply: Reply
        entry_id = value.get("id")
        if action == "faq" and isinstance(entry_id, str) and faq.entry(entry_id):
            reply = self.faq_answer(entry_id)
        elif action == "feedback" and isinstance(entry_id, str) and faq.entry(entry_id):
            helpful = value.get("helpful") is True
            self.feedback.record(entry_id, helpful)
            self.log.info("feedback", extra={"entry_id": entry_id, "helpful": helpful, "outcome": "feedback"})
            reply = self._text("feedback_thanks")
        elif action == "topics":
            reply = faq_cards.topics_reply(faq)
        elif action == "topic" and isinstance(value.get("topic"), str) and faq.topic(value["topic"]):
            reply = faq_cards.topic_reply(faq, value["topic"])
        elif action == "referrals":
            need = value.get("need")
            if isinstance(need, str) and directory.has_need(need):
                reply = referral_cards.routes_reply(directory.routes_for(need, now), title=directory.need(need).title)
            else:
                reply = referral_cards.routes_reply(directory.all_routes(now), title="Who to contact")
        elif action == "route" and isinstance(entry_id, str) and directory.has_route(entry_id):
            reply = referral_cards.route_reply(directory.advice_for(entry_id, now))
        else:
            reply = self._help()
        await send_replies(context, [reply])
