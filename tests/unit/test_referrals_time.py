"""Time-aware routes: office hours, evenings, weekends and UK bank holidays change what comes first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from knowledge.local_contacts import load_local_contacts, parse_local_contacts
from knowledge.referrals import load_directory

EXAMPLE = Path(__file__).resolve().parents[2] / "deployment" / "local-contacts.example.yaml"
LONDON = ZoneInfo("Europe/London")
UTC = dt.timezone.utc


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


WEEKDAY_DAY = at(2026, 12, 1, 11)  # Tuesday
WEEKDAY_EVENING = at(2026, 12, 1, 20)  # Tuesday
WEEKEND = at(2026, 11, 28, 11)  # Saturday
CHRISTMAS = at(2026, 12, 25, 11)  # Friday, bank holiday everywhere in the UK
SUMMER_BANK_HOLIDAY = at(2026, 8, 31, 11)  # Monday: England and Wales, not Scotland


@pytest.fixture(scope="module")
def local():
    return load_local_contacts(EXAMPLE)


@pytest.fixture(scope="module")
def directory(local):
    return load_directory(local=local)


def _ids(route_list) -> list[str]:
    return [item.route.id for item in route_list.items]


def _advice(route_list, route_id):
    return next(item for item in route_list.items if item.route.id == route_id)


def test_weekday_daytime_is_office_hours_and_office_routes_are_open(directory):
    routes = directory.routes_for("child-at-risk-now", WEEKDAY_DAY)
    assert routes.office_hours_now is True
    assert _advice(routes, "local_dsl").available_now is True
    assert _advice(routes, "local_mash").available_now is True
    ids = _ids(routes)
    assert ids[:3] == ["emergency", "local_dsl", "local_deputy_1"]
    # Out-of-hours-only routes are closed now and go last, saying when they are open.
    edt = _advice(routes, "local_emergency_duty_team")
    assert edt.available_now is False and "Out of office hours only" in edt.note
    assert ids.index("local_emergency_duty_team") > ids.index("local_mash")
    assert not any("outside office hours" in notice for notice in routes.notices)


@pytest.mark.parametrize("when", [WEEKDAY_EVENING, WEEKEND, CHRISTMAS, SUMMER_BANK_HOLIDAY])
def test_out_of_hours_the_routes_usable_now_come_first(directory, when):
    routes = directory.routes_for("child-at-risk-now", when)
    assert routes.office_hours_now is False
    ids = _ids(routes)
    assert ids[0] == "emergency"
    assert ids.index("local_out_of_hours_on_call") < ids.index("local_dsl")
    assert ids.index("local_emergency_duty_team") < ids.index("local_mash")
    availability = [item.available_now for item in routes.items]
    rank = {True: 0, None: 1, False: 2}
    assert [rank[a] for a in availability] == sorted(rank[a] for a in availability)
    dsl = _advice(routes, "local_dsl")
    assert dsl.available_now is False
    assert dsl.note.startswith("Office hours only: Monday to Thursday, 8:30am to 5pm; Friday, 8:30am to 4:30pm")
    assert any("outside office hours" in notice for notice in routes.notices)


@pytest.mark.parametrize(
    ("when", "open_now"),
    [
        (WEEKDAY_DAY, True),
        (at(2026, 12, 1, 7, 59), False),
        (at(2026, 12, 1, 8, 0), True),
        (at(2026, 12, 1, 21, 59), True),
        (at(2026, 12, 1, 22, 0), False),
        (at(2026, 12, 5, 8, 30), False),
        (at(2026, 12, 5, 9, 0), True),
        (at(2026, 12, 6, 17, 59), True),
        (at(2026, 12, 6, 18, 0), False),
    ],
)
def test_nspcc_phone_lines_follow_the_verified_weekday_and_weekend_hours(directory, when, open_now):
    advice = _advice(directory.routes_for("professional-advice", when), "nspcc_helpline")
    assert advice.available_now is open_now
    assert advice.note.startswith("Phone: Monday to Friday, 8am to 10pm; Saturday and Sunday, 9am to 6pm.")


@pytest.mark.parametrize("when", [WEEKDAY_DAY, WEEKDAY_EVENING, WEEKEND])
def test_posh_last_published_hours_are_never_claimed_open_or_closed(directory, when):
    advice = _advice(directory.routes_for("professional-advice", when), "posh")
    assert advice.available_now is None
    assert advice.note.startswith("Last published hours: Monday to Friday, 10am to 4pm")


@pytest.mark.parametrize("when", [CHRISTMAS, SUMMER_BANK_HOLIDAY])
def test_nspcc_phones_on_a_bank_holiday_are_not_claimed_open(directory, when):
    # The reference gives weekday and weekend hours only: bank holiday opening is unconfirmed.
    assert _advice(directory.routes_for("professional-advice", when), "nspcc_helpline").available_now is None


def test_999_is_available_at_night_and_online_forms_are_not_claimed_open(directory):
    """The reference gives no hours for CEOP, the IWF or Report Remove: an online form is not
    promised as "available now" at 3am."""
    night = at(2026, 12, 2, 3)
    routes = directory.all_routes(night)
    assert _advice(routes, "emergency").available_now is True
    for route_id in ("ceop", "iwf", "report_remove"):
        advice = _advice(routes, route_id)
        assert advice.available_now is None, route_id
        assert "do not state its hours" in advice.note, route_id


def test_bank_holidays_follow_the_configured_nation(local):
    scotland = load_directory(local=local.model_copy(update={"bank_holidays": "scotland"}))
    england = load_directory(local=local)
    # 31 August 2026 is the summer bank holiday in England; Scotland's is 3 August.
    assert england.office_hours_now(SUMMER_BANK_HOLIDAY) is False
    assert scotland.office_hours_now(SUMMER_BANK_HOLIDAY) is True
    assert scotland.office_hours_now(at(2026, 8, 3, 11)) is False
    assert england.office_hours_now(at(2026, 8, 3, 11)) is True


def test_boxing_day_substitute_holiday_closes_the_office(directory):
    # 26 December 2026 is a Saturday; the bank holiday moves to Monday 28 December.
    assert directory.office_hours_now(at(2026, 12, 28, 11)) is False
    assert directory.office_hours_now(at(2026, 12, 29, 11)) is True


@pytest.mark.parametrize(
    ("when", "open_now"),
    [
        (at(2026, 12, 7, 8, 59), False),
        (at(2026, 12, 7, 9, 0), True),
        (at(2026, 12, 7, 16, 59), True),
        (at(2026, 12, 7, 17, 0), False),
        (at(2026, 12, 5, 12), False),
    ],
)
def test_without_local_config_office_hours_default_to_monday_to_friday_9_to_5(when, open_now):
    directory = load_directory()
    assert directory.local_configured is False
    assert directory.office_hours_now(when) is open_now


def test_times_in_other_zones_are_read_in_uk_time():
    directory = load_directory()
    # 1 July is British Summer Time: 16:30 UTC is 17:30 in London, after 5pm.
    assert directory.office_hours_now(dt.datetime(2026, 7, 1, 16, 30, tzinfo=UTC)) is False
    assert directory.office_hours_now(dt.datetime(2026, 7, 1, 15, 30, tzinfo=UTC)) is True
    # In winter London is on UTC.
    assert directory.office_hours_now(dt.datetime(2026, 12, 1, 16, 30, tzinfo=UTC)) is True


def test_the_organisation_time_zone_is_used_for_its_office_hours():
    local = parse_local_contacts(
        {"organisation": "X", "dsl": {"phone": "01632 960 001"}, "timezone": "America/New_York"}
    )
    directory = load_directory(local=local)
    # 14:00 in London on a Tuesday is 09:00 in New York: just open there.
    assert directory.office_hours_now(at(2026, 12, 1, 14)) is True
    assert directory.office_hours_now(at(2026, 12, 1, 13, 59)) is False


def test_the_injected_clock_is_used_when_no_time_is_given(local):
    evening = load_directory(local=local, clock=lambda: WEEKDAY_EVENING)
    morning = load_directory(local=local, clock=lambda: WEEKDAY_DAY)
    assert evening.routes_for("out-of-hours").office_hours_now is False
    assert morning.routes_for("out-of-hours").office_hours_now is True
    assert _ids(evening.routes_for("out-of-hours"))[1] == "local_out_of_hours_on_call"
    assert evening.advice_for("local_dsl").available_now is False
    assert morning.advice_for("local_dsl").available_now is True


def test_weekend_office_hours_can_be_configured(local):
    office_hours = {day: {"start": "09:00", "end": "13:00"} for day in ("saturday",)}
    saturday_open = load_directory(local=local.model_copy(update={"office_hours": parse_local_contacts(
        {"organisation": "X", "dsl": {"phone": "01632 960 001"}, "office_hours": office_hours}
    ).office_hours}))
    assert saturday_open.office_hours_now(WEEKEND) is True
    assert saturday_open.office_hours_now(WEEKDAY_DAY) is False
    assert _advice(saturday_open.routes_for("child-at-risk-now", WEEKEND), "local_dsl").note == (
        "Office hours only: Saturday, 9am to 1pm."
    )
