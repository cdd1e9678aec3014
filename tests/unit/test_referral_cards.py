"""Referral cards: every route one tap from a call, an email or its website; plain text keeps it all."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cards.referrals import contact_lines, needs_reply, route_reply, routes_reply, tel_url
from knowledge.local_contacts import load_local_contacts
from knowledge.referrals import load_directory

EXAMPLE = Path(__file__).resolve().parents[2] / "deployment" / "local-contacts.example.yaml"
LONDON = ZoneInfo("Europe/London")
WEEKDAY_DAY = dt.datetime(2026, 12, 1, 11, tzinfo=LONDON)
WEEKDAY_EVENING = dt.datetime(2026, 12, 1, 20, tzinfo=LONDON)


@pytest.fixture(scope="module")
def national():
    return load_directory()


@pytest.fixture(scope="module")
def with_local():
    return load_directory(local=load_local_contacts(EXAMPLE))


def _walk(element):
    """Every dict inside a card, depth first."""
    if isinstance(element, dict):
        yield element
        for value in element.values():
            yield from _walk(value)
    elif isinstance(element, list):
        for value in element:
            yield from _walk(value)


def _open_urls(card) -> list[tuple[str, str]]:
    return [(e["title"], e["url"]) for e in _walk(card) if e.get("type") == "Action.OpenUrl"]


def _route_containers(card) -> list[dict]:
    return [e for e in card["body"] if e.get("type") == "Container"]


@pytest.mark.parametrize(("phone", "url"), [("0808 800 5000", "tel:08088005000"), ("999", "tel:999"),
                                            ("+44 1632 960 001", "tel:+441632960001")])
def test_tel_urls_hold_digits_only(phone, url):
    assert tel_url(phone) == url


def test_each_route_has_its_own_container_with_call_email_and_web_actions(national):
    route_list = national.all_routes(WEEKDAY_DAY)
    card = routes_reply(route_list, "Who to contact").card
    containers = _route_containers(card)
    assert len(containers) == len(route_list.items)
    for container, item in zip(containers, route_list.items):
        route = item.route
        assert container["items"][0]["text"] == route.name
        actions = dict(_open_urls(container))
        expected = {}
        if route.phone:
            expected[f"Call {route.phone}"] = "tel:" + route.phone.replace(" ", "")
        if route.email:
            expected["Email"] = f"mailto:{route.email}"
        if route.web:
            expected["Website"] = route.web
        assert actions == expected, route.id
        action_sets = [e for e in container["items"] if e["type"] == "ActionSet"]
        assert len(action_sets) == 1


def test_the_nspcc_card_calls_emails_and_links_the_reference_details(national):
    card = route_reply(national.advice_for("nspcc_helpline", WEEKDAY_DAY)).card
    assert sorted(_open_urls(card)) == sorted([
        ("Call 0808 800 5000", "tel:08088005000"),
        ("Email", "mailto:help@nspcc.org.uk"),
        ("Website", "https://www.nspcc.org.uk/what-you-can-do/report-abuse/"),
    ])


def test_999_is_a_tap_to_call_first_on_the_child_at_risk_card(national):
    card = routes_reply(national.routes_for("child-at-risk-now", WEEKDAY_EVENING), "A child at risk now").card
    first = _route_containers(card)[0]
    assert _open_urls(first) == [("Call 999", "tel:999")]


def test_every_link_on_every_card_is_tel_mailto_or_https(with_local):
    for need in with_local.needs():
        card = routes_reply(with_local.routes_for(need.id, WEEKDAY_EVENING), need.title).card
        for _, url in _open_urls(card):
            assert re.fullmatch(r"tel:\+?\d+|mailto:[^@\s]+@[^@\s]+|https://\S+", url), url


def test_cards_are_adaptive_card_1_5_and_small_enough_for_teams(with_local):
    card = routes_reply(with_local.all_routes(WEEKDAY_DAY), "Who to contact").card
    assert card["version"] == "1.5" and card["type"] == "AdaptiveCard"
    assert len(json.dumps(card)) < 28_000  # Teams rejects messages over about 28 KB


def test_plain_text_keeps_every_number_and_address(with_local):
    route_list = with_local.all_routes(WEEKDAY_DAY)
    text = routes_reply(route_list, "Who to contact").text
    for item in route_list.items:
        for detail in (item.route.phone, item.route.email, item.route.web):
            if detail:
                assert detail in text, detail


def test_unconfirmed_addresses_carry_their_warning_and_are_never_shown_as_checked(national):
    reply = route_reply(national.advice_for("ceop", WEEKDAY_DAY))
    assert "Not confirmed: web address. Address as widely published; check before relying on it." in reply.text
    assert "Details checked" not in reply.text
    assert "Details not confirmed. Last reviewed 24 November 2026." in reply.text
    mcf = route_reply(national.advice_for("marie_collins_foundation", WEEKDAY_DAY))
    assert "Details checked" not in mcf.text and "check before relying on it" in mcf.text
    iwf = route_reply(national.advice_for("iwf", WEEKDAY_DAY))
    assert "https://www.iwf.org.uk/report" in iwf.text and "report.iwf.org.uk" not in iwf.text
    assert "check before relying on it" not in iwf.text
    assert "Details checked 2 December 2026. Last reviewed 2 December 2026." in iwf.text
    confirmed = route_reply(national.advice_for("childline", WEEKDAY_DAY))
    assert "check before relying on it" not in confirmed.text


def test_no_text_on_a_route_card_uses_the_unreadable_warning_colour(national):
    for item in national.all_routes(WEEKDAY_EVENING).items:
        card = route_reply(item).card
        assert '"Warning"' not in str(card).replace("'", '"'), item.route.id


def test_the_card_says_what_each_route_is_for_and_who_may_use_it(national):
    text = route_reply(national.advice_for("posh", WEEKDAY_DAY)).text
    assert "Free advice for professionals and volunteers" in text
    assert "Who can use it: professionals and volunteers." in text


def test_availability_now_is_shown_per_route(national):
    late = dt.datetime(2026, 12, 1, 23, tzinfo=LONDON)
    evening = routes_reply(national.routes_for("professional-advice", late), "Advice").card
    nspcc = next(c for c in _route_containers(evening) if c["items"][0]["text"] == "NSPCC Helpline")
    texts = [i.get("text", "") for i in nspcc["items"]]
    assert "Closed now." in texts
    assert any(t.startswith("Hours: Phone: Monday to Friday, 8am to 10pm") for t in texts)
    day = route_reply(national.advice_for("nspcc_helpline", WEEKDAY_DAY))
    assert "Available now." in day.text
    posh = route_reply(national.advice_for("posh", WEEKDAY_DAY))
    assert "Last published hours: Monday to Friday, 10am to 4pm" in posh.text
    assert "Hours not confirmed: check before relying on them." in posh.text
    assert "Available now." not in posh.text and "Closed now." not in posh.text


def test_missing_local_config_is_said_plainly_above_the_national_routes(national):
    reply = routes_reply(national.routes_for("refer-to-childrens-social-care", WEEKDAY_DAY), "Refer")
    assert "are not set up in this bot" in reply.text
    assert reply.text.index("not set up") < reply.text.index("NSPCC Helpline")
    assert ("Call 0808 800 5000", "tel:08088005000") in _open_urls(reply.card)


def test_local_contacts_get_tap_to_call_buttons(with_local):
    card = routes_reply(with_local.routes_for("worried-about-adult", WEEKDAY_DAY), "Worried").card
    urls = _open_urls(card)
    assert ("Call 01632 960 001", "tel:01632960001") in urls
    assert ("Email", "mailto:lado@example.org") in urls
    assert "not set up" not in routes_reply(with_local.routes_for("worried-about-adult", WEEKDAY_DAY), "W").text


def test_a_need_card_offers_all_routes(national):
    reply = routes_reply(national.routes_for("out-of-hours", WEEKDAY_EVENING), "Out of hours")
    assert any(c.data == {"action": "referrals"} for c in reply.choices)
    all_card = routes_reply(national.all_routes(WEEKDAY_EVENING), "Who to contact")
    assert not any(c.data is not None for c in all_card.choices)


def test_needs_card_has_a_button_per_need_and_all_routes(national):
    reply = needs_reply(national)
    submitted = [c.data for c in reply.choices if c.data is not None]
    expected = [{"action": "referrals", "need": need.id} for need in national.needs()]
    assert submitted == expected + [{"action": "referrals"}]
    for action_set in (e for e in _walk(reply.card) if e.get("type") == "ActionSet"):
        assert len(action_set["actions"]) <= 5
    assert "1. A child is at risk right now" in reply.text


def test_contact_lines_give_each_detail_once_for_faq_answers(national):
    lines = contact_lines(national.route("nspcc_helpline"))
    assert lines[0] == "NSPCC Helpline"
    assert "Phone: 0808 800 5000" in lines
    assert "Email: help@nspcc.org.uk" in lines
    assert "Web: https://www.nspcc.org.uk/what-you-can-do/report-abuse/" in lines
    assert any(line.startswith("Hours: Phone: Monday to Friday, 8am to 10pm") for line in lines)


def test_contact_lines_flag_an_unconfirmed_address(national):
    lines = contact_lines(national.route("marie_collins_foundation"))
    web = next(line for line in lines if line.startswith("Web:"))
    assert "https://www.mariecollinsfoundation.org.uk" in web and "check before relying on it" in web
    assert not any(line.startswith("Phone:") for line in lines)
