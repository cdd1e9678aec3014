"""The organisation's own safeguarding contacts: a separate, validated configuration file.

National routes are the same for everyone and live in ``content/referrals.yaml``; the DSL, the
local children's social care front door, the LADO and the office hours belong to one deployment,
so they come from a file the organisation keeps (its path is given by the bot, which reads the
``LOCAL_CONTACTS_PATH`` environment variable; nothing here reads the environment).

A mistake in this file must stop start-up with a message that says which field is wrong and in
which file: a wrong on-call number found at 2 a.m. is far worse than a bot that refuses to start.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, field_validator, model_validator

from knowledge.models import Strict
from knowledge.yamlio import safe_load

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

BankHolidayRegion = Literal["england", "wales", "scotland", "northern_ireland"]

# The `holidays` library models UK bank holidays as country GB with one subdivision per nation.
HOLIDAY_SUBDIVISIONS: dict[str, str] = {
    "england": "ENG",
    "wales": "WLS",
    "scotland": "SCT",
    "northern_ireland": "NIR",
}

DEFAULT_TIMEZONE = "Europe/London"

# UK numbers as people write them: a national number (0 + 9 or 10 digits), the same in +44 form,
# or the three-digit police and emergency numbers a "police contact" may legitimately be.
_UK_NUMBER = re.compile(r"(?:0\d{9,10}|\+44\d{9,10}|999|101|112)")
_ALLOWED_PHONE_CHARS = re.compile(r"\+?[\d ]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?(?:[/?#][^\s]*)?")


class LocalContactsError(ValueError):
    """The local contacts file is missing, unreadable or invalid; the message names file and field."""


def _uk_phone(value: str) -> str:
    text = value.strip()
    if not _ALLOWED_PHONE_CHARS.fullmatch(text):
        raise ValueError("a phone number may contain only digits, spaces and a leading +")
    if not _UK_NUMBER.fullmatch(text.replace(" ", "")):
        raise ValueError("not a UK phone number (expected e.g. 01632 960 000 or +44 1632 960 000)")
    return text


def _email(value: str) -> str:
    text = value.strip()
    if not _EMAIL.fullmatch(text):
        raise ValueError("not an email address")
    return text


def _https_url(value: str) -> str:
    text = value.strip()
    if not _HTTPS_URL.fullmatch(text):
        raise ValueError("not an https:// web address")
    return text


def _yaml_clock_time(value: object) -> object:
    """YAML 1.1 reads an unquoted 17:00 as the base-60 integer 1020: turn it back into a time."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return dt.time(value // 60, value % 60)
    return value


Phone = Annotated[str, AfterValidator(_uk_phone)]
Email = Annotated[str, AfterValidator(_email)]
HttpsUrl = Annotated[str, AfterValidator(_https_url)]
ClockTime = Annotated[dt.time, BeforeValidator(_yaml_clock_time)]


class Person(Strict):
    """The DSL or a deputy: someone staff tell about a concern."""

    name: str | None = None
    role: str | None = None
    phone: Phone | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _reachable(self) -> "Person":
        if not self.phone and not self.email:
            raise ValueError("give at least a phone number or an email address")
        return self


class PhoneLine(Strict):
    """A number to ring (on-call, emergency duty team, police contact), with an optional note."""

    name: str | None = None
    phone: Phone
    note: str | None = None


class Office(Strict):
    """A service with office hours: the MASH (children's social care front door) or the LADO."""

    name: str | None = None
    phone: Phone | None = None
    email: Email | None = None
    web: HttpsUrl | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _reachable(self) -> "Office":
        if not (self.phone or self.email or self.web):
            raise ValueError("give at least a phone number, an email address or a web address")
        return self


class DayHours(Strict):
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _order(self) -> "DayHours":
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


def _default_office_hours() -> dict[str, DayHours]:
    return {
        day: DayHours(start=dt.time(9, 0), end=dt.time(17, 0))
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
    }


class LocalContacts(Strict):
    """One organisation's contacts, office hours, time zone and bank-holiday region."""

    organisation: str = Field(min_length=1)
    dsl: Person
    deputies: list[Person] = Field(default_factory=list)
    out_of_hours_on_call: PhoneLine | None = None
    mash: Office | None = None
    emergency_duty_team: PhoneLine | None = None
    lado: Office | None = None
    police: PhoneLine | None = None
    local_procedures_url: HttpsUrl | None = None
    office_hours: dict[Weekday, DayHours] = Field(default_factory=_default_office_hours)
    timezone: str = DEFAULT_TIMEZONE
    bank_holidays: BankHolidayRegion = "england"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r} (expected e.g. Europe/London)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def holiday_subdivision(self) -> str:
        return HOLIDAY_SUBDIVISIONS[self.bank_holidays]


def _field_path(loc: tuple) -> str:
    """pydantic's error location as a dotted path (``office_hours.monday.end``)."""
    return ".".join(str(part) for part in loc if part != "[key]") or "(top level)"


def parse_local_contacts(data: object, origin: str = "local contacts") -> LocalContacts:
    """Validate already-parsed data; ``origin`` names the file in error messages."""
    if not isinstance(data, dict):
        raise LocalContactsError(f"{origin}: expected a mapping of settings at the top level")
    try:
        return LocalContacts.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_field_path(error['loc'])}: {error['msg'].removeprefix('Value error, ')}" for error in exc.errors()
        )
        raise LocalContactsError(f"{origin}: invalid local contacts: {problems}") from None


def load_local_contacts(path: str | Path) -> LocalContacts:
    """Read and validate the organisation's contacts file; any problem raises LocalContactsError."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LocalContactsError(f"{file}: local contacts file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LocalContactsError(f"{file}: cannot read local contacts file ({type(exc).__name__})") from None
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise LocalContactsError(f"{file}: not valid YAML{line}") from None
    return parse_local_contacts(data, origin=str(file))
