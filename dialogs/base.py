"""What every dialog here shares: sending channel-neutral Replies, and a look at each turn before
the waterfall sees it (help, cancel, start again, "a child is in danger").

Sending lives in ``bot/replies.py`` (one place decides card or plain text per channel); it is
re-exported here so dialogs send exactly the way the rest of the bot does.
"""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, DialogContext, DialogTurnResult
from botbuilder.schema import ActivityTypes

from bot.replies import CARD_CHANNELS, reply_activity, send_replies, supports_cards

__all__ = ["CARD_CHANNELS", "InterruptibleDialog", "reply_activity", "send_replies", "supports_cards"]


class InterruptibleDialog(ComponentDialog):
    """A ComponentDialog whose subclasses may answer a turn before its inner dialogs do.

    ``interrupt`` sees every message while the dialog is active. Returning a turn result means the
    turn was handled (cancelled, re-prompted, moved); returning None lets the inner waterfall
    continue as normal. Safety notices (call 999, don't share identifying details) are sent from
    there, so they come before anything the waterfall says.
    """

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        if inner_dc.context.activity.type == ActivityTypes.message:
            handled = await self.interrupt(inner_dc)
            if handled is not None:
                return handled
        return await super().on_continue_dialog(inner_dc)

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        return None
