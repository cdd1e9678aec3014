"""``make check-content``: catches the content mistakes that would mislead a practitioner."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from knowledge.check import check_content, contact_details_in, heading_slug, main
from tests.unit.faq_fixture import SECTIONS, faq_copy, write_content

TODAY = dt.date(2026, 12, 1)


def _check(tmp_path: Path, faq: dict | None = None, sections: dict | None = None):
    return check_content(write_content(tmp_path, faq=faq, sections=sections), TODAY)


def test_good_content_passes(tmp_path: Path) -> None:
    report = _check(tmp_path)
    assert report.ok, report.errors


def test_the_shipped_content_passes() -> None:
    report = check_content(None, TODAY)
    assert report.ok, "\n".join(report.errors)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Call 0808 800 5000 for advice.", "phone number"),
        ("ring +44 344 381 4772", "phone number"),
        ("Childline is on 0800 1111", "phone number"),
        ("email help@nspcc.org.uk", "email address"),
        ("see https://www.ceop.police.uk/Safety-Centre/", "web address"),
        ("go to www.childline.org.uk", "web address"),
        ("visit report.iwf.org.uk", "web address"),
        ("or call NHS 111", "phone number"),
    ],
)
def test_contact_details_in_answer_text_are_found(text: str, kind: str) -> None:
    assert any(found.startswith(kind) for found in contact_details_in(text))


@pytest.mark.parametrize(
    "text",
    [
        "If a child is in immediate danger, call 999.",
        "Otherwise call the police on 101.",
        "The Online Safety Act 2023 received Royal Assent on 26 October 2023.",
        "Under 13s, and young people under 18.",
        "e.g. the DSL, i.e. the lead.",
    ],
)
def test_allowed_numbers_and_ordinary_text_pass(text: str) -> None:
    assert contact_details_in(text) == []


def test_phone_number_in_an_answer_fails_naming_entry_and_field(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][7]["detail"] = "Ring them on 0344 381 4772."
    report = _check(tmp_path, faq=data)
    assert not report.ok
    assert any("posh-helpline.detail" in e and "0344 381 4772" in e for e in report.errors)


def test_wrong_term_outside_terminology_entries_fails(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][2]["answer"] = "Never forward child pornography."
    report = _check(tmp_path, faq=data)
    assert any("evidence-do-not-view-or-forward.answer" in e and "child sexual abuse material" in e
               for e in report.errors)


def test_a_briefing_section_nobody_cites_fails(tmp_path: Path) -> None:
    sections = {"sections": [*SECTIONS["sections"], {"id": "indicators", "title": "Indicators", "covers": "x"}]}
    report = _check(tmp_path, sections=sections)
    assert any("'indicators'" in e and "cited by no FAQ entry" in e for e in report.errors)


def test_unknown_citations_fail(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][0]["sources"] = [
        {"briefing": "introduction"},
        {"briefing": "no-such-section"},
        {"reference": "contacts.yaml#samaritans"},
        {"reference": "somewhere else"},
    ]
    errors = "\n".join(_check(tmp_path, faq=data).errors)
    assert "unknown briefing section 'no-such-section'" in errors
    assert "'contacts.yaml#samaritans' names an unknown service" in errors
    assert "'somewhere else' is not" in errors


def test_an_alternate_that_belongs_to_another_entry_fails_with_both_ids(tmp_path: Path) -> None:
    data = faq_copy()
    # evidence-preserve's alternate, differing only in case and punctuation, filed under POSH
    data["entries"][7]["alternates"].append("Preserve evidence on the PHONE!")
    report = _check(tmp_path, faq=data)
    assert any(
        "entry posh-helpline" in e and "evidence-preserve" in e and "Preserve evidence" in e
        for e in report.errors
    )


def test_overdue_review_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][0]["review"] = {"owner": "lead", "last_reviewed": "2025-01-01", "review_by": "2025-06-01"}
    report = _check(tmp_path, faq=data)
    assert report.ok
    assert any("terminology-why-not-child-pornography" in w and "overdue" in w for w in report.warnings)
    assert not check_content(write_content(tmp_path / "b", faq=data), dt.date(2025, 5, 1)).warnings


def test_schema_errors_are_reported_not_raised(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][0]["topic"] = "nonsense"
    report = _check(tmp_path, faq=data)
    assert not report.ok and "unknown topic 'nonsense'" in report.errors[0]


def test_command_exits_1_with_readable_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = faq_copy()
    data["entries"][0]["answer"] = "Email a@b.org."
    directory = write_content(tmp_path, faq=data)
    assert main(["--content-dir", str(directory), "--today", "2026-12-01"]) == 1
    out = capsys.readouterr().out
    assert "ERROR: faq.yaml entry terminology-why-not-child-pornography.answer" in out
    assert "FAILED: 1 error(s)" in out


def test_command_exits_0_and_prints_overdue_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = write_content(tmp_path)
    assert main(["--content-dir", str(directory), "--today", "2030-01-01"]) == 0
    out = capsys.readouterr().out
    assert "WARNING:" in out and "review overdue" in out
    assert "content OK" in out


def test_overlapping_alternates_are_listed_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = faq_copy()
    # a POSH alternate that is really a CEOP question, in other words than CEOP's own alternate
    data["entries"][7]["alternates"].append("report grooming online to CEOP")
    directory = write_content(tmp_path, faq=data)
    report = check_content(directory, TODAY)
    assert report.ok
    assert any("entry posh-helpline" in o and "ceop-how-to-report" in o for o in report.overlaps)
    assert main(["--content-dir", str(directory), "--verbose"]) == 0
    assert "OVERLAP: faq.yaml entry posh-helpline" in capsys.readouterr().out
    assert main(["--content-dir", str(directory)]) == 0
    summary = f"{len(report.overlaps)} alternate(s) would, as unseen text, be answered as another entry"
    assert summary in capsys.readouterr().out


@pytest.mark.parametrize("name", ["messages.yaml", "triage.yaml", "disclosure.yaml", "referrals.yaml"])
def test_the_rest_of_the_content_is_checked_too(tmp_path: Path, name: str) -> None:
    directory = tmp_path / "content"
    shutil.copytree(Path(__file__).resolve().parents[2] / "knowledge" / "content", directory)
    assert check_content(directory, TODAY).ok
    (directory / name).write_text("version: 1\nnot_a_field: [\n", encoding="utf-8")
    report = check_content(directory, TODAY)
    assert not report.ok
    assert any(error.startswith(name) for error in report.errors), report.errors


# ------------------------------------------------------------------ citations of the shared reference

GUIDANCE = "# Guidance\n\n## Sharing nudes and semi-nudes (UKCIS, with the NPCC)\n- a fact\n\n## Records\n- a fact\n"
CONTACTS = "services:\n  - id: ceop\n    name: CEOP\n  - id: iwf\n    source: https://example.org  # address to verify\n"


def _reference(tmp_path: Path) -> Path:
    directory = tmp_path / "reference"
    directory.mkdir()
    (directory / "guidance.md").write_text(GUIDANCE, encoding="utf-8")
    (directory / "contacts.yaml").write_text(CONTACTS, encoding="utf-8")
    return directory


def test_heading_slugs_are_github_style() -> None:
    assert heading_slug("Sharing nudes and semi-nudes (UKCIS, with the NPCC)") == (
        "sharing-nudes-and-semi-nudes-ukcis-with-the-npcc"
    )
    assert heading_slug("Online Safety Act 2023") == "online-safety-act-2023"


def test_citations_by_the_full_heading_slug_and_a_real_service_id_pass(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][0]["sources"].append({"reference": "guidance.md#sharing-nudes-and-semi-nudes-ukcis-with-the-npcc"})
    data["entries"][1]["sources"].append({"reference": "contacts.yaml#ceop"})
    report = check_content(write_content(tmp_path / "content", faq=data), TODAY, _reference(tmp_path))
    assert report.ok, report.errors


def test_a_shortened_heading_slug_in_any_content_file_is_an_error_with_the_right_slug(tmp_path: Path) -> None:
    """The same heading cited two ways shows two labels on cards; a slug that is no heading cites nothing."""
    data = faq_copy()
    data["entries"][0]["sources"].append({"reference": "guidance.md#sharing-nudes"})
    directory = write_content(tmp_path / "content", faq=data)
    (directory / "notes.yaml").write_text(
        "labels:\n  'guidance.md#record-keeping': Records\n  'contacts.yaml#ceop_centre': CEOP\n", encoding="utf-8"
    )
    report = check_content(directory, TODAY, _reference(tmp_path))
    assert not report.ok
    assert (
        "faq.yaml: guidance.md#sharing-nudes names no heading in the shared reference "
        "(did you mean guidance.md#sharing-nudes-and-semi-nudes-ukcis-with-the-npcc?)"
    ) in report.errors
    assert any(e.startswith("notes.yaml: guidance.md#record-keeping names no heading") for e in report.errors)
    assert any(e.startswith("notes.yaml: contacts.yaml#ceop_centre names no service id") for e in report.errors)


def test_a_local_configuration_citation_is_not_mistaken_for_the_reference(tmp_path: Path) -> None:
    directory = write_content(tmp_path / "content")
    (directory / "notes.yaml").write_text("source: local-contacts.yaml#lado\n", encoding="utf-8")
    assert check_content(directory, TODAY, _reference(tmp_path)).ok


def test_without_the_shared_reference_the_citation_check_is_skipped_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = faq_copy()
    data["entries"][0]["sources"].append({"reference": "guidance.md#sharing-nudes"})
    directory = write_content(tmp_path / "content", faq=data)
    missing = tmp_path / "no-reference"
    report = check_content(directory, TODAY, missing)
    assert report.ok, report.errors
    assert report.notes and "not checked" in report.notes[0]
    assert main(["--content-dir", str(directory), "--reference-dir", str(missing)]) == 0
    assert "note: reference citations not checked" in capsys.readouterr().out


def test_the_shipped_wording_triage_guide_and_directory_cite_the_reference_by_its_real_slugs() -> None:
    """messages.yaml, triage.yaml, disclosure.yaml and referrals.yaml (faq.yaml is checked by
    test_the_shipped_content_passes)."""
    from knowledge.check import REFERENCE_DIR

    if not (REFERENCE_DIR / "guidance.md").exists():
        pytest.skip("the shared reference is not checked out next to the project")
    report = check_content(None, TODAY)
    mine = ("messages.yaml", "triage.yaml", "disclosure.yaml", "referrals.yaml")
    assert [e for e in report.errors if e.startswith(mine)] == []


def _shipped_reference(tmp_path: Path) -> Path:
    from knowledge.check import REFERENCE_DIR

    if not (REFERENCE_DIR / "contacts.yaml").exists():
        pytest.skip("the shared reference is not checked out next to the project")
    copy = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, copy)
    return copy


def test_a_changed_number_in_the_reference_fails_the_content_check(tmp_path: Path) -> None:
    """make check-content compares every national route with contacts.yaml: when the reference
    changes a number, the project's directory no longer matches and the check says which."""
    from knowledge.check import CONTENT_DIR

    reference = _shipped_reference(tmp_path)
    assert check_content(CONTENT_DIR, TODAY, reference).ok
    contacts = reference / "contacts.yaml"
    contacts.write_text(contacts.read_text(encoding="utf-8").replace('"0800 028 0285"', '"0800 028 0299"'), encoding="utf-8")
    report = check_content(CONTENT_DIR, TODAY, reference)
    assert "referrals.yaml: nspcc_whistleblowing.phone is '0800 028 0285'; contacts.yaml says '0800 028 0299'" in report.errors


def test_a_new_reference_service_without_a_route_fails_the_content_check(tmp_path: Path) -> None:
    from knowledge.check import CONTENT_DIR

    reference = _shipped_reference(tmp_path)
    contacts = reference / "contacts.yaml"
    contacts.write_text(
        contacts.read_text(encoding="utf-8")
        + "  - id: samaritans\n    name: Samaritans\n    phone: \"116 123\"\n    source: test\n",
        encoding="utf-8",
    )
    report = check_content(CONTENT_DIR, TODAY, reference)
    assert "referrals.yaml: contacts.yaml service 'samaritans' has no route" in report.errors


def test_practice_md_topics_are_citable_and_a_wrong_topic_is_an_error(tmp_path: Path) -> None:
    reference = _shipped_reference(tmp_path)
    data = faq_copy()
    data["entries"][0]["sources"].append({"reference": "practice.md#sextortion"})
    data["entries"][1]["sources"].append({"reference": "practice.md#sextortion-advice"})
    report = check_content(write_content(tmp_path / "content", faq=data), TODAY, reference)
    assert [e for e in report.errors if "practice.md" in e] == [
        "faq.yaml: practice.md#sextortion-advice names no topic in the shared reference (did you mean practice.md#sextortion?)"
    ]
