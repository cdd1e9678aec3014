"""The referral directory: every route traces to the shared reference; every need and name is found."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from knowledge.local_contacts import load_local_contacts, parse_local_contacts
from knowledge.referrals import ReferralContentError, load_directory
from knowledge.check import REFERENCE_DIR

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "knowledge" / "content"
EXAMPLE = ROOT / "deployment" / "local-contacts.example.yaml"
REFERENCE = REFERENCE_DIR / "contacts.yaml"  # $SHARED_DIR/reference, by default ../shared
LONDON = ZoneInfo("Europe/London")
TUESDAY_MORNING = dt.datetime(2026, 12, 1, 11, 0, tzinfo=LONDON)

NEED_IDS = [
    "child-at-risk-now",
    "report-online-abuse",
    "remove-sexual-image",
    "professional-advice",
    "worried-about-adult",
    "family-support",
    "child-wants-to-talk",
    "police-non-emergency",
    "refer-to-childrens-social-care",
    "out-of-hours",
]


def read_reference(text: str) -> dict:
    """The shared reference is strict YAML: parse it as it is, no repairs."""
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def reference() -> dict:
    if not REFERENCE.exists():
        pytest.skip("the shared reference is not checked out next to the project")
    return read_reference(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def national():
    return load_directory(clock=lambda: TUESDAY_MORNING)


@pytest.fixture(scope="module")
def with_local():
    return load_directory(local=load_local_contacts(EXAMPLE), clock=lambda: TUESDAY_MORNING)


def _reference_services(reference: dict) -> dict[str, dict]:
    return {service["id"]: service for service in reference["services"]}


# --------------------------------------------------------------------- content vs reference


def test_national_routes_are_exactly_the_reference_services(national, reference):
    ids = [r.route.id for r in national.all_routes().items]
    assert sorted(ids) == sorted(_reference_services(reference))


def test_every_contact_detail_is_copied_exactly_from_the_reference(national, reference):
    for service_id, service in _reference_services(reference).items():
        route = national.route(service_id)
        for field in ("phone", "email", "web"):
            assert getattr(route, field) == service.get(field), f"{service_id}.{field}"


def test_every_route_carries_the_reference_checked_date_a_source_and_a_review(national, reference):
    checked, rechecked = reference["checked"], reference["rechecked"]
    # The reference's `rechecked` comment names what was rechecked: NSPCC hours, the IWF reporting
    # page and the whistleblowing line.
    rechecked_ids = {"nspcc_helpline", "iwf", "nspcc_whistleblowing"}
    for item in national.all_routes().items:
        route = item.route
        assert route.verified == (rechecked if route.id in rechecked_ids else checked), route.id
        assert any(s.reference == f"contacts.yaml#{route.id}" for s in route.sources), route.id
        assert route.review is not None and route.review.review_by > checked


def test_addresses_the_reference_says_to_verify_are_flagged_unconfirmed(national, reference):
    flagged = {
        service_id
        for service_id, service in _reference_services(reference).items()
        if "verify before use" in str(service.get("source", "")).lower()
    }
    assert flagged == {"ceop", "marie_collins_foundation"}
    for service_id in flagged:
        note = national.route(service_id).unconfirmed.get("web", "")
        assert "check before relying on it" in note, service_id
    for service_id in set(_reference_services(reference)) - flagged:
        assert not national.route(service_id).unconfirmed, service_id


def test_hours_the_reference_calls_uncertain_are_never_presented_as_certain(national, reference):
    uncertain = {
        service_id
        for service_id, service in _reference_services(reference).items()
        if any(w in str(service.get("hours", "")).lower() for w in ("vary", "unconfirmed", "not state hours", "not certain"))
    }
    assert uncertain == {"stop_it_now", "posh", "nspcc_whistleblowing"}
    for service_id in uncertain:
        assert national.route(service_id).hours.hours_certain is False, service_id
        assert national.advice_for(service_id).available_now is None, service_id


def test_routes_the_reference_gives_no_hours_for_are_never_shown_as_available_now(national, reference):
    """Only 999 (the emergency line) and a timetable the reference states can be "available now"."""
    without_hours = {sid for sid, service in _reference_services(reference).items() if "hours" not in service}
    assert {"ceop", "iwf", "report_remove"} <= without_hours
    for service_id in without_hours - {"emergency"}:
        hours = national.route(service_id).hours
        assert hours.hours_certain is False, service_id
        assert national.advice_for(service_id).available_now is None, service_id


def test_the_lado_route_says_what_the_lado_does_and_cites_practice(with_local):
    role_route = with_local.route("local_lado")
    assert role_route.purpose.startswith("The Local Authority Designated Officer")
    assert "headteacher" in role_route.purpose and "chair of governors" in role_route.purpose
    assert {s.reference for s in role_route.sources} == {"local-contacts.yaml#lado", "practice.md#allegations-against-staff"}


def test_posh_hours_are_only_the_last_published_timetable(national, reference):
    """The reference cannot confirm POSH's hours as current: shown as last published, never open/closed now."""
    assert "last published" in _reference_services(reference)["posh"]["hours"]
    hours = national.route("posh").hours
    assert hours.kind == "scheduled" and hours.hours_certain is False
    assert hours.note.startswith("Last published hours: Monday to Friday, 10am to 4pm")
    assert national.advice_for("posh", TUESDAY_MORNING).available_now is None


def test_nspcc_phone_hours_are_the_verified_timetable(national, reference):
    assert "Monday to Friday 8am to 10pm" in _reference_services(reference)["nspcc_helpline"]["hours"]
    hours = national.route("nspcc_helpline").hours
    assert hours.hours_certain is True
    assert hours.note.startswith("Phone: Monday to Friday, 8am to 10pm; Saturday and Sunday, 9am to 6pm.")
    london = LONDON
    assert national.advice_for("nspcc_helpline", TUESDAY_MORNING).available_now is True
    assert national.advice_for("nspcc_helpline", dt.datetime(2026, 12, 1, 23, 0, tzinfo=london)).available_now is False
    assert national.advice_for("nspcc_helpline", dt.datetime(2026, 12, 5, 10, 0, tzinfo=london)).available_now is True
    assert national.advice_for("nspcc_helpline", dt.datetime(2026, 12, 5, 19, 0, tzinfo=london)).available_now is False
    # Christmas Day: the reference gives no bank holiday hours, so "check", not "open".
    assert national.advice_for("nspcc_helpline", dt.datetime(2026, 12, 25, 10, 0, tzinfo=london)).available_now is None


def test_the_whistleblowing_line_is_an_extra_for_concerns_about_staff(national):
    ids = [i.route.id for i in national.routes_for("worried-about-adult", TUESDAY_MORNING).items]
    assert "nspcc_whistleblowing" in ids
    route = national.route("nspcc_whistleblowing")
    assert route.phone == "0800 028 0285"
    assert "does not replace" in route.purpose


# ----------------------------------------------------------------------------------- needs


def test_the_directory_has_every_need_of_the_issue(national):
    assert [need.id for need in national.needs()] == NEED_IDS


@pytest.mark.parametrize("need_id", NEED_IDS)
def test_every_need_lists_its_national_routes_in_order_and_its_local_roles(with_local, need_id):
    need = with_local.need(need_id)
    listed = [item.route.id for item in with_local.routes_for(need_id, TUESDAY_MORNING).items]
    expected_national = [ref for ref in need.routes if not ref.startswith("local:")]
    assert [r for r in listed if not r.startswith("local_")] == expected_national
    roles = {ref.removeprefix("local:") for ref in need.routes if ref.startswith("local:")}
    for role in roles - {"deputies", "local_procedures"}:
        assert f"local_{role}" in listed, role
    if "deputies" in roles:
        assert "local_deputy_1" in listed


@pytest.mark.parametrize("need_id", NEED_IDS)
def test_every_need_still_has_national_routes_without_local_config(national, need_id):
    routes = national.routes_for(need_id, TUESDAY_MORNING)
    assert routes.local_configured is False
    assert routes.items, need_id
    assert all(item.route.kind == "national" for item in routes.items)


@pytest.mark.parametrize("directory_name", ["national", "with_local"])
@pytest.mark.parametrize(
    "when",
    [
        TUESDAY_MORNING,
        dt.datetime(2026, 12, 1, 23, 30, tzinfo=LONDON),
        dt.datetime(2026, 11, 29, 3, 0, tzinfo=LONDON),
        dt.datetime(2026, 12, 25, 12, 0, tzinfo=LONDON),
    ],
)
def test_999_is_always_first_for_a_child_at_risk_now(request, directory_name, when):
    directory = request.getfixturevalue(directory_name)
    first = directory.routes_for("child-at-risk-now", when).items[0]
    assert first.route.phone == "999"
    assert first.available_now is True


def test_worried_about_a_colleague_offers_dsl_lado_and_stop_it_now(with_local):
    ids = [i.route.id for i in with_local.routes_for("worried-about-adult", TUESDAY_MORNING).items]
    assert {"local_dsl", "local_lado", "stop_it_now"} <= set(ids)


def test_missing_local_config_says_so_and_shows_only_national_routes(national):
    routes = national.routes_for("refer-to-childrens-social-care", TUESDAY_MORNING)
    assert national.local_configured is False
    assert any("not set up" in notice for notice in routes.notices)
    assert [i.route.id for i in routes.items] == ["nspcc_helpline"]


def test_configured_local_contacts_are_not_reported_missing(with_local):
    routes = with_local.routes_for("refer-to-childrens-social-care", TUESDAY_MORNING)
    assert routes.local_configured is True
    assert not any("not set up" in notice for notice in routes.notices)
    mash = next(i.route for i in routes.items if i.route.id == "local_mash")
    assert mash.phone == "01632 960 100" and mash.kind == "local"


def test_lists_without_999_remind_of_it_first(national):
    routes = national.routes_for("professional-advice", TUESDAY_MORNING)
    assert "999" in routes.notices[0]
    with_999 = national.routes_for("child-at-risk-now", TUESDAY_MORNING)
    assert not any("999" in notice for notice in with_999.notices)


def test_a_local_contacts_file_with_only_a_dsl_gives_only_dsl_local_routes():
    local = parse_local_contacts({"organisation": "X", "dsl": {"email": "dsl@example.org"}})
    directory = load_directory(local=local, clock=lambda: TUESDAY_MORNING)
    local_ids = [i.route.id for i in directory.all_routes().items if i.route.kind == "local"]
    assert local_ids == ["local_dsl"]


def test_unknown_ids_are_errors_not_empty_lists(national):
    with pytest.raises(KeyError):
        national.route("samaritans")
    with pytest.raises(KeyError):
        national.routes_for("not-a-need")
    assert national.has_route("ceop") and not national.has_route("samaritans")
    assert national.has_need("out-of-hours") and not national.has_need("not-a-need")


def test_broken_content_stops_loading(tmp_path):
    shutil.copy(CONTENT / "referrals.yaml", tmp_path / "referrals.yaml")
    text = (tmp_path / "referrals.yaml").read_text(encoding="utf-8")
    (tmp_path / "referrals.yaml").write_text(
        text.replace("routes: [childline, local:dsl", "routes: [samaritans, local:dsl"), encoding="utf-8"
    )
    with pytest.raises(ReferralContentError, match="samaritans"):
        load_directory(tmp_path)


def test_a_route_without_a_source_stops_loading(tmp_path):
    data = yaml.safe_load((CONTENT / "referrals.yaml").read_text(encoding="utf-8"))
    del data["routes"][3]["sources"]
    (tmp_path / "referrals.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ReferralContentError, match="routes.3"):
        load_directory(tmp_path)


def test_missing_content_file_stops_loading(tmp_path):
    with pytest.raises(ReferralContentError, match="not found"):
        load_directory(tmp_path)


# ----------------------------------------------------------------------------- free text


@pytest.mark.parametrize(
    ("text", "need_id", "route_ids"),
    [
        ("ceop", None, ("ceop",)),
        ("iwf", None, ("iwf",)),
        ("posh", None, ("posh",)),
        ("nspcc number", None, ("nspcc_helpline",)),
        ("What's the NSPCC number?", None, ("nspcc_helpline",)),
        ("how do I report to CEOP", None, ("ceop",)),
        ("childline", None, ("childline",)),
        ("report remove", None, ("report_remove",)),
        ("stop it now", None, ("stop_it_now",)),
        ("lucy faithfull foundation number", None, ("stop_it_now",)),
        ("marie collins foundation", None, ("marie_collins_foundation",)),
        ("ceop and iwf", None, ("ceop", "iwf")),
        ("999", None, ("emergency",)),
        ("out of hours who do i ring", "out-of-hours", ()),
        ("police non emergency", "police-non-emergency", ()),
        ("police non-emergency number", "police-non-emergency", ()),
        ("how do I get an image taken down", "remove-sexual-image", ()),
        ("worried about a colleague", "worried-about-adult", ()),
        ("I'm worried about a colleage", "worried-about-adult", ()),
        ("a child is in immediate danger", "child-at-risk-now", ()),
        ("how do I refer to children's social care", "refer-to-childrens-social-care", ()),
        ("a pupil wants to talk to someone", "child-wants-to-talk", ()),
        ("support for a family after abuse", "family-support", ()),
        ("advice for professionals", "professional-advice", ()),
        ("report online grooming", "report-online-abuse", ()),
    ],
)
def test_interpret_finds_needs_and_names(national, text, need_id, route_ids):
    query = national.interpret(text)
    assert query is not None
    assert query.need_id == need_id
    assert query.route_ids == route_ids


def test_every_trigger_phrase_finds_its_own_need(national):
    for need in national.needs():
        for trigger in need.triggers:
            query = national.interpret(trigger)
            assert query is not None and query.need_id == need.id, (need.id, trigger)


def test_every_route_name_finds_its_route(national):
    for item in national.all_routes().items:
        for name in item.route.names:
            query = national.interpret(name)
            assert query is not None and item.route.id in query.route_ids, name


@pytest.mark.parametrize("text", ["referral routes", "Referral routes", "who do I call", "helplines"])
def test_interpret_recognises_the_whole_directory_command(national, text):
    query = national.interpret(text)
    assert query is not None and query.wants_all and query.need_id is None and not query.route_ids


@pytest.mark.parametrize(
    "text",
    [
        "what is ceop",
        "what is grooming",
        "is sexting illegal",
        "hello",
        "",
        "   ",
        "!!!",
        "thanks",
        # Advice questions that mention a need are for the FAQ, not a list of numbers.
        "should I report to the police if a pupil shares nudes",
        "what should I do if nudes shared online",
        "what does the lado do",
    ],
)
def test_interpret_leaves_questions_and_chat_to_the_rest_of_the_bot(national, text):
    assert national.interpret(text) is None


@pytest.mark.parametrize(
    ("text", "route_id"),
    [("lado", "local_lado"), ("who is our DSL", "local_dsl"), ("edt number", "local_emergency_duty_team"),
     ("mash", "local_mash"), ("on call", "local_out_of_hours_on_call")],
)
def test_local_role_names_find_the_configured_contact(with_local, text, route_id):
    query = with_local.interpret(text)
    assert query is not None and query.route_ids == (route_id,)


@pytest.mark.parametrize(
    ("text", "need_id"),
    [("lado", "worried-about-adult"), ("who is our DSL", "professional-advice"), ("mash", "refer-to-childrens-social-care")],
)
def test_local_role_names_fall_back_to_a_need_when_not_configured(national, text, need_id):
    query = national.interpret(text)
    assert query is not None and query.need_id == need_id


def test_a_long_message_is_not_read_as_a_lookup(national):
    story = (
        "last night a year nine pupil told her form tutor that an older boy she met in a game had "
        "asked for pictures and threatened to share them out of hours with her friends and family"
    )
    assert national.interpret(story) is None
    assert national.interpret("out of hours") is not None
