"""Who to contact, now, for this concern, in this organisation.

The national routes and the lookup needs come from ``content/referrals.yaml`` (the one place a
service's phone number, email or web address lives); the organisation's own contacts come from
its local contacts file (``knowledge.local_contacts``). The directory answers "which routes, in
what order, and which of them can I use right now": out of office hours, at weekends and on UK
bank holidays the routes usable now come first and office-hours-only routes say so. The clock is
injected so the time of day can be set in tests and the answer never depends on the server's
local time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Literal
from zoneinfo import ZoneInfo

import holidays
from pydantic import Field, model_validator
from rapidfuzz import fuzz

from knowledge.local_contacts import (
    DEFAULT_TIMEZONE,
    HOLIDAY_SUBDIVISIONS,
    WEEKDAYS,
    ClockTime,
    LocalContacts,
    Weekday,
)
from knowledge.models import Review, Source, Strict, load_yaml_model
from knowledge.when import time_asked

CONTENT_DIR = Path(__file__).parent / "content"
REFERRALS_FILE = "referrals.yaml"
EMERGENCY_ROUTE_ID = "emergency"
LOCAL_PREFIX = "local:"

Audience = Literal["professional", "parent", "child", "anyone"]
HoursKind = Literal["always", "online", "scheduled", "office", "out_of_hours", "unconfirmed"]
ContactField = Literal["phone", "email", "web"]


class ReferralContentError(ValueError):
    """referrals.yaml is missing or inconsistent; the bot must not start with a broken directory."""


def now_uk() -> dt.datetime:
    """The current time in the UK, the default clock of the directory."""
    return dt.datetime.now(ZoneInfo(DEFAULT_TIMEZONE))


# ------------------------------------------------------------------------------------ models


class Window(Strict):
    """One opening span of a weekly timetable: these days, from start to end (UK time)."""

    days: tuple[Weekday, ...] = Field(min_length=1)
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.end <= self.start:
            raise ValueError("a timetable window needs a start before its end")
        return self


class Hours(Strict):
    """When a route can be used. ``scheduled`` carries its weekly timetable (UK time).

    ``hours_certain: false`` on a scheduled route means the timetable is only the last published
    one (the reference could not confirm it is current): the bot shows it as such and never says
    "open now" or "closed now" from it.
    """

    kind: HoursKind
    hours_certain: bool
    note: str
    timetable: tuple[Window, ...] = ()
    bank_holidays: Literal["open", "closed", "unconfirmed"] = "closed"

    @model_validator(mode="after")
    def _timetable(self) -> "Hours":
        if self.kind == "scheduled":
            if not self.timetable:
                raise ValueError("scheduled hours need a timetable")
            seen = [day for window in self.timetable for day in window.days]
            if len(seen) != len(set(seen)):
                raise ValueError("a day appears in two timetable windows")
            if self.week() not in self.note:
                raise ValueError(f"the note of scheduled hours must give the timetable {self.week()!r}")
        elif self.timetable:
            raise ValueError("only scheduled hours take a timetable")
        return self

    def spans(self) -> dict[str, tuple[dt.time, dt.time]]:
        """Day name -> (start, end), for the days the timetable opens."""
        return {day: (window.start, window.end) for window in self.timetable for day in window.days}

    def week(self) -> str:
        return describe_week(self.spans())


class Route(Strict):
    """One way to get help: a national service, or one of the organisation's own contacts."""

    id: str
    kind: Literal["national", "local"] = "national"
    name: str
    names: tuple[str, ...] = ()
    purpose: str
    audience: tuple[Audience, ...]
    audience_note: str | None = None
    phone: str | None = None
    email: str | None = None
    web: str | None = None
    unconfirmed: dict[ContactField, str] = Field(default_factory=dict)
    hours: Hours
    sources: tuple[Source, ...] = ()
    verified: dt.date | None = None
    review: Review | None = None

    @model_validator(mode="after")
    def _traceable(self) -> "Route":
        if self.kind == "national":
            if not self.sources or self.verified is None or self.review is None:
                raise ValueError("a national route needs sources, a verified date and a review")
        if not (self.phone or self.email or self.web):
            raise ValueError("a route needs a phone number, an email address or a web address")
        for contact in self.unconfirmed:
            if getattr(self, contact) is None:
                raise ValueError(f"unconfirmed {contact!r} given but the route has no {contact}")
        return self


class LocalRole(Strict):
    """How one of the organisation's own contacts is described and when it can be used."""

    id: Literal[
        "dsl",
        "deputies",
        "out_of_hours_on_call",
        "mash",
        "emergency_duty_team",
        "lado",
        "police",
        "local_procedures",
    ]
    name: str
    names: tuple[str, ...] = ()
    purpose: str
    audience: tuple[Audience, ...]
    hours: Literal["office", "out_of_hours", "online", "unconfirmed"]
    fallback_need: str
    sources: tuple[Source, ...] = Field(min_length=1)


class Need(Strict):
    """Something a practitioner needs ("a child at risk now"), and the routes for it, in order."""

    id: str
    title: str
    description: str
    triggers: tuple[str, ...] = Field(min_length=1)
    routes: tuple[str, ...] = Field(min_length=1)
    sources: tuple[Source, ...] = Field(min_length=1)


class Wording(Strict):
    immediate_danger: str
    local_not_configured: str
    out_of_hours: str
    sources: tuple[Source, ...] = Field(min_length=1)


class ReferralContent(Strict):
    wording: Wording
    routes: tuple[Route, ...]
    local_roles: tuple[LocalRole, ...]
    needs: tuple[Need, ...]
    all_routes_triggers: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteAdvice:
    """A route as it applies at one moment: can it be used now, and what to say about its hours."""

    route: Route
    available_now: bool | None  # None: hours unconfirmed, the practitioner should check
    note: str


@dataclass(frozen=True)
class RouteList:
    """Routes in the order to try them, with what is true about the time they were asked for."""

    office_hours_now: bool
    items: list[RouteAdvice]
    local_configured: bool
    notices: tuple[str, ...] = ()
    need_id: str | None = None
    at: dt.datetime | None = None


@dataclass(frozen=True)
class ReferralQuery:
    """What a message asked for: a need, named routes, or the whole directory."""

    need_id: str | None = None
    route_ids: tuple[str, ...] = ()
    wants_all: bool = False
    #: the moment the message asked about ("at 2am", "on Christmas Day"), and how to say it back
    at: dt.datetime | None = None
    at_label: str | None = None


# ---------------------------------------------------------------------------- text matching

_STOPWORDS = frozenset(
    "a an the my our your this that these is are was i im me we us to of for do does did can could "
    "please with some someone and or it its be been at by".split()
)
# Words that may surround a service's name in a request for its contact details ("nspcc number").
_CONTACT_INTENT = frozenset(
    "number numbers phone telephone tel contact contacts details email address website web site "
    "link url page call ring reach helpline line report reporting".split()
)
_CONTACT_FILLER = frozenset("how where get give show find need want in touch their them whats what s who".split())


def _fold(text: str) -> list[str]:
    """Lower-case words without apostrophes or punctuation (``children's`` -> ``childrens``)."""
    lowered = text.casefold().replace("'", "").replace("\u2019", "").replace("\u2018", "")
    cleaned = "".join(ch if ch.isalnum() else " " for ch in lowered)
    return cleaned.split()


def _content_words(text: str) -> list[str]:
    return [word for word in _fold(text) if word not in _STOPWORDS]


def _same_word(expected: str, seen: str) -> bool:
    """Exact, or a close spelling for words of 4+ letters ("colleage", "nudes", "taken")."""
    if expected == seen:
        return True
    if len(expected) < 4 or len(seen) < 4 or expected.isdigit() or seen.isdigit():
        return False
    return fuzz.ratio(expected, seen, score_cutoff=85) >= 85


def _phrase_positions(phrase: list[str], words: list[str]) -> list[int] | None:
    """Where a multi-word name occurs as consecutive words, or None."""
    size = len(phrase)
    for start in range(len(words) - size + 1):
        if all(_same_word(p, w) for p, w in zip(phrase, words[start : start + size])):
            return list(range(start, start + size))
    return None


def _contains_all(trigger: list[str], words: list[str]) -> bool:
    """Every content word of a trigger phrase appears in the message, in any order."""
    return bool(trigger) and all(any(_same_word(t, w) for w in words) for t in trigger)


# ------------------------------------------------------------------------------------- time


def _day_name(index: int) -> str:
    return WEEKDAYS[index].capitalize()


def _clock(value: dt.time) -> str:
    """10:00 -> "10am", 16:30 -> "4:30pm", 12:00 -> "12pm"."""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def describe_week(days: dict[str, tuple[dt.time, dt.time]]) -> str:
    """Opening times in words: "Monday to Friday, 9am to 5pm", runs of equal days grouped."""
    groups: list[tuple[int, int, tuple[dt.time, dt.time]]] = []
    for index, day in enumerate(WEEKDAYS):
        if day not in days:
            continue
        span = days[day]
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == span:
            groups[-1] = (groups[-1][0], index, span)
        else:
            groups.append((index, index, span))
    parts = []
    for first, last, (start, end) in groups:
        if first == last:
            label = _day_name(first)
        elif last == first + 1:
            label = f"{_day_name(first)} and {_day_name(last)}"
        else:
            label = f"{_day_name(first)} to {_day_name(last)}"
        parts.append(f"{label}, {_clock(start)} to {_clock(end)}")
    return "; ".join(parts) if parts else "no office hours set"


# ------------------------------------------------------------------------------- directory


class ReferralDirectory:
    """National routes plus the organisation's own contacts, ordered by need and time of day."""

    def __init__(
        self,
        routes: list[Route] | tuple[Route, ...],
        needs: list[Need] | tuple[Need, ...],
        local: LocalContacts | None,
        clock: Callable[[], dt.datetime] = now_uk,
        *,
        local_roles: list[LocalRole] | tuple[LocalRole, ...] = (),
        wording: Wording | None = None,
        all_routes_triggers: tuple[str, ...] | list[str] = (),
    ) -> None:
        self._clock = clock
        self._local = local
        self._wording = wording
        self._roles = {role.id: role for role in local_roles}
        self._national = list(routes)
        self._needs = list(needs)
        self._needs_by_id = {need.id: need for need in self._needs}
        self._role_routes: dict[str, list[Route]] = _local_routes(local, self._roles) if local else {}
        self._routes: dict[str, Route] = {route.id: route for route in self._national}
        for role_routes in self._role_routes.values():
            for route in role_routes:
                self._routes[route.id] = route
        self._zone = local.zone if local else ZoneInfo(DEFAULT_TIMEZONE)
        self._uk_zone = ZoneInfo(DEFAULT_TIMEZONE)
        self._office = (
            {day: (hours.start, hours.end) for day, hours in local.office_hours.items()}
            if local
            else {day: (dt.time(9), dt.time(17)) for day in WEEKDAYS[:5]}
        )
        region = local.bank_holidays if local else "england"
        self._bank_holidays = holidays.country_holidays("GB", subdiv=HOLIDAY_SUBDIVISIONS[region])
        self._all_triggers = [_content_words(t) for t in all_routes_triggers]
        # Names and triggers folded once here, not on every message.
        names = [(_content_words(n), route.id, True) for route in self._national for n in route.names]
        names += [(_content_words(n), role.id, False) for role in self._roles.values() for n in role.names]
        self._names = sorted(names, key=lambda c: -len(c[0]))  # longest first: "stop it now" beats "now"
        self._need_triggers = [(need.id, _content_words(t)) for need in self._needs for t in need.triggers]
        self._check_references()

    def _check_references(self) -> None:
        known = {route.id for route in self._national}
        for need in self._needs:
            for ref in need.routes:
                if ref.startswith(LOCAL_PREFIX):
                    if self._roles and ref.removeprefix(LOCAL_PREFIX) not in self._roles:
                        raise ReferralContentError(f"need {need.id!r} names unknown local role {ref!r}")
                elif ref not in known:
                    raise ReferralContentError(f"need {need.id!r} names unknown route {ref!r}")
        for role in self._roles.values():
            if role.fallback_need not in self._needs_by_id:
                raise ReferralContentError(f"local role {role.id!r} falls back to unknown need {role.fallback_need!r}")

    # ------------------------------------------------------------------ lookups by id

    @property
    def local_configured(self) -> bool:
        return self._local is not None

    @property
    def organisation(self) -> str | None:
        return self._local.organisation if self._local else None

    def needs(self) -> list[Need]:
        return list(self._needs)

    def need(self, need_id: str) -> Need:
        try:
            return self._needs_by_id[need_id]
        except KeyError:
            raise KeyError(f"unknown need {need_id!r}") from None

    def has_need(self, need_id: str) -> bool:
        return need_id in self._needs_by_id

    def has_route(self, route_id: str) -> bool:
        return route_id in self._routes

    def route(self, route_id: str) -> Route:
        try:
            return self._routes[route_id]
        except KeyError:
            raise KeyError(f"unknown route {route_id!r}") from None

    # ------------------------------------------------------------------ time of day

    def _local_time(self, now: dt.datetime | None) -> dt.datetime:
        moment = now if now is not None else self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        return moment.astimezone(self._zone)

    def is_bank_holiday(self, day: dt.date) -> bool:
        return day in self._bank_holidays

    def office_hours_now(self, now: dt.datetime | None = None) -> bool:
        """Is the organisation's office open: a configured weekday, inside its hours, not a bank holiday."""
        moment = self._local_time(now)
        span = self._office.get(WEEKDAYS[moment.weekday()])
        if span is None or self.is_bank_holiday(moment.date()):
            return False
        return span[0] <= moment.time() < span[1]

    def _scheduled_open(self, hours: Hours, now: dt.datetime) -> bool | None:
        if not hours.hours_certain:
            return None  # only the last published timetable: never "open now" or "closed now" from it
        moment = now.astimezone(self._uk_zone)
        span = hours.spans().get(WEEKDAYS[moment.weekday()])
        if span is None or not span[0] <= moment.time() < span[1]:
            return False
        if self.is_bank_holiday(moment.date()):
            return {"open": True, "closed": False, "unconfirmed": None}[hours.bank_holidays]
        return True

    def _office_description(self) -> str:
        return describe_week(self._office)

    def advice_for(self, route_id: str, now: dt.datetime | None = None) -> RouteAdvice:
        return self._advice(self.route(route_id), self._local_time(now))

    def _advice(self, route: Route, moment: dt.datetime) -> RouteAdvice:
        hours = route.hours
        office_open = self.office_hours_now(moment)
        if hours.kind in ("always", "online"):
            return RouteAdvice(route, True, hours.note)
        if hours.kind == "unconfirmed":
            return RouteAdvice(route, None, hours.note)
        if hours.kind == "scheduled":
            return RouteAdvice(route, self._scheduled_open(hours, moment), hours.note)
        if hours.kind == "office":
            return RouteAdvice(route, office_open, f"Office hours only: {self._office_description()}.")
        # out_of_hours
        return RouteAdvice(
            route,
            not office_open,
            "Out of office hours only: evenings, weekends and bank holidays.",
        )

    # ------------------------------------------------------------------ route lists

    def _expand(self, refs: tuple[str, ...] | list[str]) -> list[Route]:
        routes: list[Route] = []
        for ref in refs:
            if ref.startswith(LOCAL_PREFIX):
                routes.extend(self._role_routes.get(ref.removeprefix(LOCAL_PREFIX), []))
            else:
                routes.append(self._routes[ref])
        return routes

    def _route_list(self, routes: list[Route], now: dt.datetime | None, need_id: str | None) -> RouteList:
        moment = self._local_time(now)
        office_open = self.office_hours_now(moment)
        advice = [self._advice(route, moment) for route in routes]

        def rank(item: RouteAdvice) -> int:
            if item.route.id == EMERGENCY_ROUTE_ID:
                return 0
            if office_open:
                # In office hours keep the need's own order, but routes closed now go last.
                return 2 if item.available_now is False else 1
            return {True: 1, None: 2, False: 3}[item.available_now]

        ordered = sorted(advice, key=rank)  # stable: the need's order within each rank
        notices: list[str] = []
        if self._wording is not None:
            if not any(item.route.id == EMERGENCY_ROUTE_ID for item in ordered):
                notices.append(self._wording.immediate_danger)
            if not self.local_configured:
                notices.append(self._wording.local_not_configured)
            if not office_open:
                notices.append(self._wording.out_of_hours)
        return RouteList(
            office_hours_now=office_open,
            items=ordered,
            local_configured=self.local_configured,
            notices=tuple(notices),
            need_id=need_id,
            at=moment,
        )

    def routes_for(self, need_id: str, now: dt.datetime | None = None) -> RouteList:
        """The routes for one need, in the order to try them at ``now`` (default: the clock)."""
        need = self.need(need_id)
        return self._route_list(self._expand(need.routes), now, need.id)

    def all_routes(self, now: dt.datetime | None = None) -> RouteList:
        """Every route: 999 first, then the organisation's own contacts, then the national ones."""
        local = [route for role_routes in self._role_routes.values() for route in role_routes]
        emergency = [r for r in self._national if r.id == EMERGENCY_ROUTE_ID]
        national = [r for r in self._national if r.id != EMERGENCY_ROUTE_ID]
        return self._route_list(emergency + local + national, now, None)

    # ------------------------------------------------------------------ free text

    def _named_routes(self, words: list[str]) -> tuple[list[str], set[int], list[str]]:
        """Route ids (and fallback needs) named in the message, and which words named them."""
        found: list[str] = []
        fallbacks: list[str] = []
        used: set[int] = set()
        for phrase, target, national in self._names:
            positions = _phrase_positions(phrase, words)
            if positions is None or used.intersection(positions):
                continue
            used.update(positions)
            if national:
                if target not in found:
                    found.append(target)
            elif self._role_routes.get(target):
                for route in self._role_routes[target]:
                    if route.id not in found:
                        found.append(route.id)
            else:
                fallbacks.append(self._roles[target].fallback_need)
        return found, used, fallbacks

    def _best_need(self, words: list[str]) -> tuple[str | None, list[str]]:
        """The need whose longest trigger phrase is wholly in the message, and that phrase."""
        best: tuple[str | None, list[str]] = (None, [])
        for need_id, trigger_words in self._need_triggers:
            if len(trigger_words) > len(best[1]) and _contains_all(trigger_words, words):
                best = (need_id, trigger_words)
        return best

    def interpret(self, text: str, now: dt.datetime | None = None) -> ReferralQuery | None:
        """Read a message as a directory lookup ("ceop", "out of hours who do i ring"), or None.

        Deliberately conservative, because a wrong lookup hides the advice someone asked for: a
        service's name alone, or with contact words around it ("nspcc number", "how do I report
        to ceop"), is a lookup, but "what is ceop" is a question for the FAQ. A need is
        recognised when every content word of one of its trigger phrases is in the message, and
        the message is not a longer advice question ("should I report to the police if a pupil
        shares nudes" is for the FAQ, not a list of numbers).
        """
        if len([w for w in _fold(text) if w not in _STOPWORDS]) > MAX_LOOKUP_WORDS:
            return None  # a long message is a question or a story, never a lookup: no time reading
        asked = time_asked(text, self._local_time(now), self._bank_holidays)
        query = (self._interpret(asked.without(text)) if asked else None) or self._interpret(text)
        if query is None or asked is None:
            return query
        if query.wants_all and not self.office_hours_now(asked.moment):
            # "who do I ring at 2am": the routes for out of hours, at that time
            query = ReferralQuery(need_id="out-of-hours")
        return replace(query, at=asked.moment, at_label=asked.label)

    def _interpret(self, text: str) -> ReferralQuery | None:
        words = [w for w in _fold(text) if w not in _STOPWORDS]
        if not words or len(words) > MAX_LOOKUP_WORDS:
            return None
        route_ids, used, fallbacks = self._named_routes(words)
        rest = [w for i, w in enumerate(words) if i not in used]

        need_id, trigger = self._best_need(rest)
        if need_id is not None and _reads_as_lookup(rest, trigger):
            return ReferralQuery(need_id=need_id, route_ids=tuple(route_ids))
        if (route_ids or fallbacks) and _asks_for_named_contact(rest):
            if route_ids:
                return ReferralQuery(route_ids=tuple(route_ids))
            return ReferralQuery(need_id=fallbacks[0])
        all_trigger = max((t for t in self._all_triggers if _contains_all(t, rest)), key=len, default=None)
        if all_trigger and _reads_as_lookup(rest, all_trigger):
            return ReferralQuery(wants_all=True)
        return None


#: A lookup is a short request; a long message is a question or a story for the FAQ and triage.
MAX_LOOKUP_WORDS = 25
#: How many words beyond a need's trigger phrase a message may have and still be a lookup.
MAX_EXTRA_WORDS = 3
_ADVICE_QUESTION = frozenset("should why whether if when".split())
_NEED_INTENT = frozenset(
    "number numbers phone telephone tel contact contacts details email address website web site link url "
    "call ring reach helpline line who".split()
)


def _reads_as_lookup(rest: list[str], trigger: list[str]) -> bool:
    """A need's trigger was found: is the message asking who to contact, not for advice?"""
    if any(w in _ADVICE_QUESTION for w in rest) and not any(w in _NEED_INTENT for w in rest):
        return False
    extras = [
        w
        for w in rest
        if not any(_same_word(t, w) for t in trigger)
        and w not in _CONTACT_FILLER
        and w not in _CONTACT_INTENT
        and w not in _ADVICE_QUESTION
    ]
    return len(extras) <= MAX_EXTRA_WORDS


def _asks_for_named_contact(rest: list[str]) -> bool:
    """A service was named: only contact words around it ("nspcc number"), not "what is ceop"."""
    others = [w for w in rest if w not in _CONTACT_INTENT and w not in _CONTACT_FILLER]
    asks_for_contact = any(w in _CONTACT_INTENT for w in rest)
    what_question = any(w in ("what", "whats") for w in rest)
    return not others and not (what_question and not asks_for_contact)


def _office_hours_kind(role: LocalRole) -> Hours:
    notes = {
        "office": "Office hours.",
        "out_of_hours": "Out of office hours.",
        "online": "Online, at any time.",
        "unconfirmed": "Hours as set by your organisation; check before relying on them.",
    }
    return Hours(kind=role.hours, hours_certain=role.hours != "unconfirmed", note=notes[role.hours])


def _local_routes(local: LocalContacts, roles: dict[str, LocalRole]) -> dict[str, list[Route]]:
    """Turn the organisation's contacts into routes (ids ``local_<role>``), role by role."""
    built: dict[str, list[Route]] = {}

    def add(role_id: str, route_id: str, name: str | None, note: str | None, **contact: str | None) -> None:
        role = roles.get(role_id)
        if role is None:
            return
        hours = _office_hours_kind(role)
        if note and role.hours == "unconfirmed":
            hours = Hours(kind="unconfirmed", hours_certain=False, note=note)
        # A person is named under their role ("DSL: Sam Example"); a service by its own name.
        if not name:
            label = role.name
        elif role_id in ("dsl", "deputies"):
            label = f"{role.name}: {name}"
        else:
            label = name
        purpose = f"{role.purpose} {note}" if note and role.hours != "unconfirmed" else role.purpose
        built.setdefault(role_id, []).append(
            Route(
                id=route_id,
                kind="local",
                name=label,
                names=role.names,
                purpose=purpose,
                audience=role.audience,
                hours=hours,
                sources=role.sources,
                **{k: v for k, v in contact.items() if v},
            )
        )

    dsl = local.dsl
    add("dsl", "local_dsl", dsl.name, None, phone=dsl.phone, email=dsl.email)
    for number, deputy in enumerate(local.deputies, start=1):
        add("deputies", f"local_deputy_{number}", deputy.name, None, phone=deputy.phone, email=deputy.email)
    if local.out_of_hours_on_call:
        line = local.out_of_hours_on_call
        add("out_of_hours_on_call", "local_out_of_hours_on_call", line.name, line.note, phone=line.phone)
    if local.mash:
        office = local.mash
        add("mash", "local_mash", office.name, office.note, phone=office.phone, email=office.email, web=office.web)
    if local.emergency_duty_team:
        line = local.emergency_duty_team
        add("emergency_duty_team", "local_emergency_duty_team", line.name, line.note, phone=line.phone)
    if local.lado:
        office = local.lado
        add("lado", "local_lado", office.name, office.note, phone=office.phone, email=office.email, web=office.web)
    if local.police:
        line = local.police
        add("police", "local_police", line.name, line.note, phone=line.phone)
    if local.local_procedures_url:
        add("local_procedures", "local_procedures", None, None, web=local.local_procedures_url)
    return built


def _load_content(path: Path) -> ReferralContent:
    content = load_yaml_model(path, ReferralContent, ReferralContentError)
    ids = [route.id for route in content.routes] + [need.id for need in content.needs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ReferralContentError(f"{path}: duplicate ids {duplicates}")
    return content


def load_directory(
    content_dir: Path | None = None,
    local: LocalContacts | None = None,
    clock: Callable[[], dt.datetime] = now_uk,
) -> ReferralDirectory:
    """Build the directory from ``referrals.yaml`` and, if configured, the organisation's contacts."""
    content = _load_content((content_dir or CONTENT_DIR) / REFERRALS_FILE)
    return ReferralDirectory(
        content.routes,
        content.needs,
        local,
        clock,
        local_roles=content.local_roles,
        wording=content.wording,
        all_routes_triggers=content.all_routes_triggers,
    )


__all__ = [
    "Audience",
    "Hours",
    "LocalRole",
    "Need",
    "ReferralContentError",
    "ReferralDirectory",
    "ReferralQuery",
    "Route",
    "RouteAdvice",
    "RouteList",
    "load_directory",
    "now_uk",
]
