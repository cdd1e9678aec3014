"""The organisation's own contacts file: a mistake must stop start-up and say where it is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from knowledge.local_contacts import LocalContactsError, load_local_contacts

EXAMPLE = Path(__file__).resolve().parents[2] / "deployment" / "local-contacts.example.yaml"


def _example_data() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "contacts.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_example_file_is_valid_and_fictional():
    local = load_local_contacts(EXAMPLE)
    assert local.dsl.phone == "01632 960 001"
    assert local.bank_holidays == "england"
    assert local.office_hours["friday"].end == dt.time(16, 30)
    phones = [local.dsl.phone, *(d.phone for d in local.deputies)]
    phones += [local.out_of_hours_on_call.phone, local.mash.phone, local.emergency_duty_team.phone]
    phones += [local.lado.phone, local.police.phone]
    # Ofcom's drama range: none of these can ring a real person.
    assert all(p.replace(" ", "").startswith("01632960") for p in phones)
    emails = [local.dsl.email, local.mash.email, local.lado.email]
    assert all(e.endswith("@example.org") for e in emails)


def test_minimal_file_gets_default_office_hours_time_zone_and_region(tmp_path):
    local = load_local_contacts(_write(tmp_path, {"organisation": "X", "dsl": {"email": "dsl@example.org"}}))
    assert sorted(local.office_hours) == ["friday", "monday", "thursday", "tuesday", "wednesday"]
    assert local.office_hours["monday"].start == dt.time(9) and local.office_hours["monday"].end == dt.time(17)
    assert local.timezone == "Europe/London"
    assert local.holiday_subdivision == "ENG"


@pytest.mark.parametrize(
    ("region", "subdivision"),
    [("england", "ENG"), ("wales", "WLS"), ("scotland", "SCT"), ("northern_ireland", "NIR")],
)
def test_bank_holiday_region_maps_to_the_holidays_library_subdivision(tmp_path, region, subdivision):
    data = {"organisation": "X", "dsl": {"phone": "01632 960 001"}, "bank_holidays": region}
    assert load_local_contacts(_write(tmp_path, data)).holiday_subdivision == subdivision


def test_unquoted_yaml_times_are_read_as_clock_times(tmp_path):
    # YAML 1.1 reads an unquoted 17:00 as the number 1020; it must still mean 5pm.
    path = tmp_path / "contacts.yaml"
    path.write_text(
        "organisation: X\ndsl: {phone: '01632 960 001'}\noffice_hours:\n  monday: {start: 08:30, end: 17:00}\n",
        encoding="utf-8",
    )
    local = load_local_contacts(path)
    assert local.office_hours["monday"].start == dt.time(8, 30)
    assert local.office_hours["monday"].end == dt.time(17, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["dsl"].update(phone="call Sam"), "dsl.phone"),
        (lambda d: d["dsl"].update(phone="1234"), "dsl.phone"),
        (lambda d: d["dsl"].update(phone="01632-960-001"), "dsl.phone"),
        (lambda d: d["deputies"][0].update(email="not-an-email"), "deputies.0.email"),
        (lambda d: d["mash"].update(web="http://example.org/referral"), "mash.web"),
        (lambda d: d.update(local_procedures_url="example.org/procedures"), "local_procedures_url"),
        (lambda d: d.update(timezone="Mars/Olympus"), "timezone"),
        (lambda d: d.update(bank_holidays="cornwall"), "bank_holidays"),
        (lambda d: d["office_hours"]["monday"].update(end="07:00"), "office_hours.monday"),
        (lambda d: d["office_hours"].update(funday={"start": "09:00", "end": "17:00"}), "office_hours.funday"),
        (lambda d: d.pop("organisation"), "organisation"),
        (lambda d: d.update(dsl={"name": "Sam"}), "dsl"),
        (lambda d: d.update(lado_phone="01632 960 300"), "lado_phone"),
        (lambda d: d["emergency_duty_team"].pop("phone"), "emergency_duty_team.phone"),
    ],
)
def test_invalid_configuration_names_the_field_and_the_file(tmp_path, change, field):
    data = _example_data()
    change(data)
    path = _write(tmp_path, data)
    with pytest.raises(LocalContactsError) as caught:
        load_local_contacts(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"{field}:" in message


def test_missing_file_is_an_error_naming_the_path(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(LocalContactsError, match="not found") as caught:
        load_local_contacts(path)
    assert str(path) in str(caught.value)


def test_broken_yaml_is_an_error_with_the_line(tmp_path):
    path = tmp_path / "contacts.yaml"
    path.write_text("organisation: X\ndsl: {phone: '01632 960 001'\n", encoding="utf-8")
    with pytest.raises(LocalContactsError, match=r"not valid YAML at line \d+"):
        load_local_contacts(path)


def test_a_file_that_is_not_a_mapping_is_rejected(tmp_path):
    path = tmp_path / "contacts.yaml"
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(LocalContactsError, match="mapping"):
        load_local_contacts(path)


@pytest.mark.parametrize("phone", ["01632 960 001", "+44 1632 960001", "0808 800 5000", "101"])
def test_uk_phone_formats_are_accepted(tmp_path, phone):
    data = {"organisation": "X", "dsl": {"phone": phone}}
    assert load_local_contacts(_write(tmp_path, data)).dsl.phone == phone
