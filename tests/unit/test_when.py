"""Time words in a lookup set the moment routes are chosen for (issue 15)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
import pytest

from knowledge.referrals import load_directory
from knowledge.local_contacts import load_local_contacts
from knowledge.when import time_asked
from pathlib import Path

LONDON = ZoneInfo("Europe/London")
TUESDAY_1030 = dt.datetime(2026, 12, 1, 10, 30, tzinfo=LONDON)
ENGLAND = holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2028))
EXAMPLE = Path(__file__).resolve().parents[2] / "deployment" / "local-contacts.example.yaml"


@pytest.mark.parametrize(
    ("text", "moment", "label"),
    [
        ("who do I ring at 2am", dt.datetime(2026, 12, 2, 2, 0), "2am on Wednesday 2 December"),
        ("who do i call at 11.30pm", dt.datetime(2026, 12, 1, 23, 30), "11:30pm on Tuesday 1 December"),
        ("who can I call tonight", dt.datetime(2026, 12, 1, 22, 0), "10pm on Tuesday 1 December"),
        ("who to ring this evening", dt.datetime(2026, 12, 1, 19, 0), "7pm on Tuesday 1 December"),
        ("who do I ring at the weekend", dt.datetime(2026, 12, 5, 12, 0), "Saturday 5 December"),
        ("who do I contact on Saturday", dt.datetime(2026, 12, 5, 12, 0), "Saturday 5 December"),
        ("who do I call on Christmas Day", dt.datetime(2026, 12, 25, 12, 0), "Christmas Day, Friday 25 December"),
        ("who is open on a bank holiday", dt.datetime(2026, 12, 25, 12, 0), "Christmas Day, Friday 25 December"),
        ("sunday at 3am who do i ring", dt.datetime(2026, 12, 6, 3, 0), "Sunday 6 December, 3am"),
    ],
)
def test_time_words_name_the_moment(text, moment, label):
    asked = time_asked(text, TUESDAY_1030, ENGLAND)
    assert asked is not None
    assert asked.moment.replace(tzinfo=None) == moment
    assert asked.label == label


@pytest.mark.parametrize("text", ["who do I ring", "ceop number", "what is grooming", "a man sent her pics", "I am 2 minutes away"])
def test_messages_without_time_words_name_no_moment(text):
    assert time_asked(text, TUESDAY_1030, ENGLAND) is None


def test_at_2am_asked_on_a_tuesday_morning_gets_the_out_of_hours_routes_for_2am():
    directory = load_directory(local=load_local_contacts(EXAMPLE), clock=lambda: TUESDAY_1030)
    query = directory.interpret("who do I ring at 2am", TUESDAY_1030)
    assert query is not None and query.need_id == "out-of-hours"
    assert query.at_label == "2am on Wednesday 2 December"
    routes = directory.routes_for(query.need_id, query.at)
    ids = [item.route.id for item in routes.items]
    assert ids[0] == "emergency"
    assert ids.index("local_out_of_hours_on_call") < ids.index("nspcc_helpline")
    # at 2am the NSPCC phones are closed (Monday to Friday 8am to 10pm)
    assert next(i for i in routes.items if i.route.id == "nspcc_helpline").available_now is False


def test_a_time_word_that_is_also_a_trigger_still_finds_its_need():
    directory = load_directory(clock=lambda: TUESDAY_1030)
    query = directory.interpret("bank holiday", TUESDAY_1030)
    assert query is not None and query.need_id == "out-of-hours"
