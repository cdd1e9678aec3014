"""Cards for the referral directory: routes for a need, one route, the list of needs.

Every route is a Container with its own ActionSet of tap-to-call (``tel:``), email (``mailto:``)
and web buttons, so a practitioner on a phone at 2 a.m. is one tap from the number. The plain-text
rendering comes from the same card (``Reply.from_card``), so a channel without cards still gets
every number and address. Contact details come only from the directory (``knowledge.referrals``):
this module formats them and never holds one.
"""

from __future__ import annotations

import re

from knowledge.referrals import ReferralDirectory, Route, RouteAdvice, RouteList

from bot.cards.common import (
    Reply,
    action_set,
    adaptive_card,
    heading,
    open_url_action,
    submit_action,
    text_block,
)

#: Teams shows at most six actions in a set before an overflow menu; keep sets short.
_BUTTONS_PER_SET = 5

_AUDIENCE_WORDS = {
    "professional": "professionals and volunteers",
    "parent": "parents and carers",
    "child": "children and young people",
    "anyone": "anyone",
}
_CONTACT_LABELS = {"phone": "Phone number", "email": "Email address", "web": "Web address"}


def tel_url(phone: str) -> str:
    """``0808 800 5000`` -> ``tel:08088005000``: digits (and a leading +) only, as diallers expect."""
    digits = re.sub(r"[^\d+]", "", phone)
    return f"tel:{digits}"


def _who(route: Route) -> str:
    return "Who can use it: " + "; ".join(_AUDIENCE_WORDS[a] for a in route.audience) + "."


def _now_line(advice: RouteAdvice, then: bool = False) -> dict:
    """Open or closed now, or at the time the question named (``then``)."""
    when = "at that time" if then else "now"
    if advice.available_now is True:
        return text_block(f"Available {when}.", color="Good", weight="Bolder")
    if advice.available_now is False:
        return text_block(f"Closed {when}.", color="Attention", weight="Bolder")
    # Default text colour: Teams' yellow "Warning" colour is unreadable on a light theme.
    return text_block("Hours not confirmed: check before relying on them.")


def _contact_actions(route: Route) -> list[dict]:
    actions = []
    if route.phone:
        actions.append(open_url_action(f"Call {route.phone}", tel_url(route.phone)))
    if route.email:
        actions.append(open_url_action("Email", f"mailto:{route.email}"))
    if route.web:
        actions.append(open_url_action("Website", route.web))
    return actions


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _warnings(route: Route) -> list[dict]:
    return [
        text_block(f"Not confirmed: {_lower_first(_CONTACT_LABELS[field])}. {note}", size="Small")
        for field, note in route.unconfirmed.items()
    ]


def _date(day) -> str:
    return f"{day.day} {day:%B %Y}"


def checked_line(route: Route) -> str:
    """When the route's details were checked, naming only the details that were: a detail the
    reference marks "verify before use" is never shown as checked. And when it was last reviewed."""
    if route.verified is None:
        return "From your organisation's contacts file."
    present = [field for field in ("phone", "email", "web") if getattr(route, field)]
    confirmed = [field for field in present if field not in route.unconfirmed]
    if confirmed == present:
        line = f"Details checked {_date(route.verified)}."
    elif confirmed:
        labels = " and ".join(_CONTACT_LABELS[field] for field in confirmed)
        line = f"{labels.capitalize()} checked {_date(route.verified)}."
    else:
        line = "Details not confirmed."
    if route.review is not None:
        line += f" Last reviewed {_date(route.review.last_reviewed)}."
    return line


def _checked(route: Route) -> list[dict]:
    return [text_block(checked_line(route), is_subtle=True, size="Small")]


def _route_items(advice: RouteAdvice, then: bool = False) -> list[dict]:
    route = advice.route
    items = [
        text_block(route.name, weight="Bolder"),
        text_block(route.purpose),
        text_block(_who(route), is_subtle=True),
    ]
    if route.audience_note:
        items.append(text_block(route.audience_note, is_subtle=True))
    items.append(text_block(f"Hours: {advice.note}", is_subtle=True))
    items.append(_now_line(advice, then))
    items.extend(_warnings(route))
    items.extend(_checked(route))
    actions = _contact_actions(route)
    if actions:
        items.append(action_set(actions))
    return items


def _route_container(advice: RouteAdvice, then: bool = False) -> dict:
    return {
        "type": "Container",
        "separator": True,
        "spacing": "Medium",
        "items": _route_items(advice, then),
    }


def _notice_blocks(route_list: RouteList) -> list[dict]:
    blocks = []
    for index, notice in enumerate(route_list.notices):
        # The first notice is the most urgent one (999 if it is not already a listed route).
        blocks.append(text_block(notice, color="Attention" if index == 0 else None, weight="Bolder" if index == 0 else None))
    return blocks


def _answered_for(label: str | None) -> list[dict]:
    """The time the routes were chosen for, when the question named one ("at 2am")."""
    return [text_block(f"For {label} (UK time).", weight="Bolder")] if label else []


def routes_reply(route_list: RouteList, title: str, answered_for: str | None = None) -> Reply:
    """One card listing the routes in order, each with its hours now and contact buttons."""
    body: list[dict] = [heading(title), *_answered_for(answered_for)]
    body.extend(_notice_blocks(route_list))
    body.extend(_route_container(item, then=answered_for is not None) for item in route_list.items)
    if route_list.need_id is not None:
        body.append(action_set([submit_action("All routes", {"action": "referrals"})]))
    return Reply.from_card(adaptive_card(body))


def route_reply(route_advice: RouteAdvice, answered_for: str | None = None) -> Reply:
    """One route on its own card: what it is for, who may use it, hours now, buttons."""
    body = [heading(route_advice.route.name), *_answered_for(answered_for)]
    items = _route_items(route_advice, then=answered_for is not None)[1:]  # the heading already names it
    body.extend(items)
    return Reply.from_card(adaptive_card(body))


def contact_lines(route: Route) -> list[str]:
    """Short text lines for a service named in an FAQ answer: name, phone, email, web, hours."""
    lines = [route.name]
    if route.phone:
        lines.append(f"Phone: {route.phone}")
    if route.email:
        lines.append(f"Email: {route.email}")
    if route.web:
        web = f"Web: {route.web}"
        note = route.unconfirmed.get("web")
        lines.append(f"{web} ({_lower_first(note).rstrip('.')})" if note else web)
    for field in ("phone", "email"):
        note = route.unconfirmed.get(field)
        if note:
            lines.append(f"{_CONTACT_LABELS[field]}: {_lower_first(note)}")
    lines.append(f"Hours: {route.hours.note}")
    return lines


def needs_reply(directory: ReferralDirectory) -> Reply:
    """What do you need? One button per need, and "All routes"."""
    buttons = [submit_action(need.title, {"action": "referrals", "need": need.id}) for need in directory.needs()]
    buttons.append(submit_action("All routes", {"action": "referrals"}))
    body: list[dict] = [heading("Who to contact"), text_block("Choose what you need help with.")]
    body.extend(action_set(buttons[i : i + _BUTTONS_PER_SET]) for i in range(0, len(buttons), _BUTTONS_PER_SET))
    return Reply.from_card(adaptive_card(body))
