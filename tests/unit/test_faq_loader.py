"""Loading the FAQ: good content loads in order; bad content fails loudly, naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.faq import ContentError, load_faq
from tests.unit.faq_fixture import SYNONYMS, faq_copy, write_content


def test_fixture_loads_with_lookup_by_id(tmp_path: Path) -> None:
    faq = load_faq(write_content(tmp_path))
    assert [t.id for t in faq.topics][0] == "terminology"
    assert faq.entries[0].id == "terminology-why-not-child-pornography"
    assert faq.by_id()["posh-helpline"].services == ["posh"]
    assert faq.entry("no-such-entry") is None
    assert [e.id for e in faq.entries_in("services")] == ["ceop-how-to-report", "posh-helpline"]
    assert faq.synonyms.abbreviations["dsl"] == "designated safeguarding lead"
    assert faq.section("posh").title == "Professionals Online Safety Helpline"


def test_phrasings_put_the_question_first(tmp_path: Path) -> None:
    entry = load_faq(write_content(tmp_path)).by_id()["ceop-how-to-report"]
    assert entry.phrasings == ("How do I report to CEOP?", "ceop number", "report online grooming to ceop")


def test_the_shipped_content_loads() -> None:
    faq = load_faq()
    assert len(faq.entries) >= 30
    assert len(faq.topics) >= 5


def _error_for(tmp_path: Path, faq: dict | None = None, synonyms: dict | None = None) -> str:
    with pytest.raises(ContentError) as caught:
        load_faq(write_content(tmp_path, faq=faq, synonyms=synonyms))
    return str(caught.value)


def test_missing_answer_names_file_entry_and_field(tmp_path: Path) -> None:
    data = faq_copy()
    del data["entries"][2]["answer"]
    message = _error_for(tmp_path, faq=data)
    assert "faq.yaml" in message
    assert "entries[2] (id: evidence-do-not-view-or-forward).answer" in message
    assert "Field required" in message


def test_misspelt_key_is_an_error_not_ignored(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][0]["alternate"] = ["typo of alternates"]
    assert "entries[0] (id: terminology-why-not-child-pornography).alternate" in _error_for(tmp_path, faq=data)


def test_unknown_service_id_is_rejected(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][6]["services"] = ["ceop", "samaritans"]
    message = _error_for(tmp_path, faq=data)
    assert "services" in message and "samaritans" in message


def test_entry_without_sources_is_rejected(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][0]["sources"] = []
    assert "sources" in _error_for(tmp_path, faq=data)


def test_blank_answer_is_rejected(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][0]["answer"] = "   "
    assert "must not be blank" in _error_for(tmp_path, faq=data)


def test_unknown_topic_and_related_and_duplicate_ids_are_named(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][0]["topic"] = "nonsense"
    data["entries"][1]["related"] = ["missing-entry"]
    data["entries"][3]["id"] = data["entries"][2]["id"]
    message = _error_for(tmp_path, faq=data)
    assert "unknown topic 'nonsense'" in message
    assert "unknown entry id 'missing-entry'" in message
    assert "duplicate id 'evidence-do-not-view-or-forward'" in message


def test_bad_synonyms_name_their_file(tmp_path: Path) -> None:
    synonyms = dict(SYNONYMS, abbreviation={"x": "y"})
    message = _error_for(tmp_path, synonyms=synonyms)
    assert "synonyms.yaml" in message and "abbreviation" in message


def test_missing_empty_and_broken_files_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="faq.yaml: file not found"):
        load_faq(tmp_path)
    directory = write_content(tmp_path / "empty")
    (directory / "faq.yaml").write_text("", encoding="utf-8")
    with pytest.raises(ContentError, match="file is empty"):
        load_faq(directory)
    (directory / "faq.yaml").write_text("version: 1\ntopics: [unclosed", encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        load_faq(directory)


def test_wrong_version_is_rejected(tmp_path: Path) -> None:
    data = faq_copy()
    data["version"] = 2
    assert "version" in _error_for(tmp_path, faq=data)


def test_review_dates_must_be_in_order(tmp_path: Path) -> None:
    data = faq_copy()
    data["entries"][0]["review"] = {"owner": "x", "last_reviewed": "2027-01-01", "review_by": "2026-01-01"}
    assert "review_by is before last_reviewed" in _error_for(tmp_path, faq=data)


def test_fixture_yaml_round_trips(tmp_path: Path) -> None:
    """Guards the fixture itself: what the tests write is what they think they wrote."""
    directory = write_content(tmp_path)
    assert yaml.safe_load((directory / "faq.yaml").read_text())["entries"][0]["id"] == (
        "terminology-why-not-child-pornography"
    )
