"""The time a question asks about: "who do I ring at 2am", "tonight", "on Saturday", "on Christmas Day".

Routes are chosen for the moment the practitioner will need them, not only for now. This reads
the few ways people name that moment in a lookup and turns them into a UK time:

- a clock time ("at 2am", "10.30pm", "midnight", "midday");
- part of a day ("tonight", "this evening", "overnight", "in the middle of the night");
- a day ("tomorrow", "on Saturday", "at the weekend");
- a bank holiday by name ("on Christmas Day", "Boxing Day", "Good Friday") or in general ("on a
  bank holiday"), from the ``holidays`` library's calendar for the organisation's nation.

A general date parser was tried first (``dateparser`` 1.x, on 2 December 2026): it reads "at 2am",
"tonight" and "on Saturday", but returns nothing for "at the weekend", "Christmas Day" or "bank
holiday", and its free-text search reads the verb "may" in "may I ask who to ring on Saturday" as
1 May. So the phrases are listed here (a short, tested list) and the calendar, names included,
comes from ``holidays``, already a dependency. Plain Python; nothing
here knows about the Bot Framework.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

#: When a day is named without a clock time, routes are chosen for midday on it; "tonight" is 10pm.
MIDDAY = dt.time(12, 0)
TONIGHT = dt.time(22, 0)
EVENING = dt.time(19, 0)
#: How far ahead a named day or holiday is looked for.
LOOKAHEAD_DAYS = 400

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = r"(?P<day>mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"
_CLOCK = re.compile(
    r"\b(?:at |by |from |around |about )?(?P<hour>[01]?\d)(?:[:.](?P<minute>[0-5]\d))? ?(?P<half>a\.?m\.?|p\.?m\.?)(?=\W|$)"
    r"|\b(?:at |by |around )?(?P<word>midnight|midday|noon)\b",
    re.IGNORECASE,
)
_PART_OF_DAY = re.compile(
    r"\b(?P<part>tonight|this evening|this eve|overnight|in the night|middle of the night|late at night|out of hours tonight)\b",
    re.IGNORECASE,
)
_NAMED_DAY = re.compile(
    r"\b(?:on |this |next |coming )?(?:(?P<tomorrow>tomorrow|tmrw|tmr)|" + _DAY + r"(?:s)?)\b"
    r"|\b(?:at |over |on |this |next )?(?:the )?(?P<weekend>weekend)\b",
    re.IGNORECASE,
)
_HOLIDAY = re.compile(
    r"\b(?:on |over |during |at )?(?:a |the )?(?P<holiday>christmas day|christmas eve|christmas|boxing day|new year'?s day|"
    r"new year'?s eve|good friday|easter monday|easter|may day|spring bank holiday|late summer bank holiday|"
    r"summer bank holiday|bank holiday(?: monday)?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AskedTime:
    """A moment named in a message: when, how to say it back, and the words that named it."""

    moment: dt.datetime
    label: str
    spans: tuple[tuple[int, int], ...]

    def without(self, text: str) -> str:
        """The message with the time words taken out, so the rest reads as the lookup it is."""
        kept, start = [], 0
        for begin, end in sorted(self.spans):
            kept.append(text[start:begin])
            start = end
        kept.append(text[start:])
        return " ".join("".join(kept).split())


def _clock_label(value: dt.time) -> str:
    if value == dt.time(0, 0):
        return "midnight"
    if value == MIDDAY:
        return "midday"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def _day_label(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _clock_in(text: str) -> tuple[dt.time, tuple[int, int]] | None:
    found = _CLOCK.search(text)
    if not found:
        return None
    if found.group("word"):
        value = dt.time(0, 0) if found.group("word").lower() == "midnight" else MIDDAY
        return value, found.span()
    hour, minute = int(found.group("hour")), int(found.group("minute") or 0)
    if not 1 <= hour <= 12:
        return None
    pm = found.group("half").lower().startswith("p")
    hour = (hour % 12) + (12 if pm else 0)
    return dt.time(hour, minute), found.span()


def _next_weekday(today: dt.date, weekday: int) -> dt.date:
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7)


def _holiday_date(name: str, today: dt.date, calendar: Mapping[dt.date, str]) -> tuple[dt.date, str] | None:
    wanted = name.lower().replace("'", "")
    if wanted in ("christmas", "christmas eve", "new years eve", "easter"):
        # not bank holidays themselves: the day named (Christmas Eve, New Year's Eve) or the bank
        # holiday the word usually means (Christmas Day, Easter Monday)
        fixed = {"christmas": "christmas day", "easter": "easter monday"}.get(wanted)
        if fixed is None:
            month, day = (12, 24) if wanted == "christmas eve" else (12, 31)
            date = dt.date(today.year, month, day)
            date = date if date >= today else dt.date(today.year + 1, month, day)
            return date, "Christmas Eve" if month == 12 and day == 24 else "New Year's Eve"
        wanted = fixed
    for offset in range(LOOKAHEAD_DAYS):
        day = today + dt.timedelta(days=offset)
        holiday = calendar.get(day)
        if not holiday:
            continue
        folded = holiday.lower().replace("'", "")
        if wanted.startswith("bank holiday") or wanted in folded or (wanted == "summer bank holiday" and "summer" in folded):
            return day, holiday.replace(" (observed)", " (bank holiday)")
    return None


def time_asked(text: str, now: dt.datetime, calendar: Mapping[dt.date, str]) -> AskedTime | None:
    """The moment ``text`` asks about, in ``now``'s time zone, or None when it names none.

    ``calendar`` maps dates to bank holiday names (a ``holidays`` calendar for the organisation's
    nation). A time already past today means the next one ("at 2am" asked at 10:30 is tomorrow's).
    """
    today = now.date()
    spans: list[tuple[int, int]] = []
    day: dt.date | None = None
    day_label: str | None = None

    holiday = _HOLIDAY.search(text)
    if holiday:
        found = _holiday_date(holiday.group("holiday"), today, calendar)
        if found:
            day, day_label = found[0], f"{found[1]}, {_day_label(found[0])}"
            spans.append(holiday.span())
    if day is None:
        named = _NAMED_DAY.search(text)
        if named:
            if named.group("tomorrow"):
                day = today + dt.timedelta(days=1)
            elif named.group("weekend"):
                day = today if today.weekday() >= 5 else _next_weekday(today, 5)
            else:
                prefix = named.group("day").lower()[:3]
                index = next(i for i, name in enumerate(_WEEKDAYS) if name.startswith(prefix))
                day = _next_weekday(today, index)
            day_label = _day_label(day)
            spans.append(named.span())

    clock = _clock_in(text)
    part = _PART_OF_DAY.search(text)
    when: dt.time | None = None
    if clock:
        when = clock[0]
        spans.append(clock[1])
    elif part:
        word = part.group("part").lower()
        when = EVENING if word.startswith("this eve") else TONIGHT
        if word in ("overnight", "in the night", "middle of the night"):
            when = dt.time(2, 0)
        spans.append(part.span())
    if day is None and when is None:
        return None

    if day is None:
        moment = now.replace(hour=when.hour, minute=when.minute, second=0, microsecond=0)
        if part and not clock and word == "tonight" and now.time() >= TONIGHT:
            moment = now  # "tonight" asked at 11pm is now
        elif moment < now - dt.timedelta(minutes=1):
            moment += dt.timedelta(days=1)
        label = f"{_clock_label(moment.time())} on {_day_label(moment.date())}"
    else:
        at = when or MIDDAY
        moment = now.replace(year=day.year, month=day.month, day=day.day, hour=at.hour, minute=at.minute, second=0, microsecond=0)
        if when is None and day == today and moment < now:
            moment = now
        label = f"{day_label}, {_clock_label(at)}" if when is not None else f"{day_label}"
    return AskedTime(moment, label, tuple(spans))
