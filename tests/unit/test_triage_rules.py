"""Loading the triage rules: a broken file stops the bot at start-up, never silently at a turn."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from knowledge.triage import DEFAULT_RULES_PATH, INTENTS, TriageRules, TriageRulesError, load_triage_rules, triage


@pytest.fixture(scope="module")
def rules() -> TriageRules:
    return load_triage_rules()


def _write_variant(tmp_path: Path, after_line: str, new_line: str) -> Path:
    """The shipped file with one line added, as a reviewer would edit it."""
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    assert text.count(after_line + "\n") == 1
    path = tmp_path / "triage.yaml"
    path.write_text(text.replace(after_line + "\n", after_line + "\n" + new_line + "\n"), encoding="utf-8")
    return path


def test_the_shipped_rules_load_and_carry_a_review_date(rules: TriageRules) -> None:
    assert rules.review.review_by > rules.review.last_reviewed


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TriageRulesError, match="cannot read"):
        load_triage_rules(tmp_path / "nope.yaml")


def test_a_pattern_that_does_not_compile_is_refused(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, "  harm:", "    - '(unclosed'")
    with pytest.raises(TriageRulesError, match="does not compile"):
        load_triage_rules(path)


def test_an_unknown_vocabulary_word_is_refused(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, "  harm:", "    - <no_such_list>")
    with pytest.raises(TriageRulesError, match="no_such_list"):
        load_triage_rules(path)


def test_an_unknown_key_is_refused_so_a_typo_is_not_a_silent_no_op(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, "emergency:", "  harms: [hurt]")
    with pytest.raises(TriageRulesError, match="harms"):
        load_triage_rules(path)


def test_yes_and_no_in_the_file_stay_words(tmp_path: Path) -> None:
    """YAML 1.1 reads a bare `no` as false; the loader keeps it the word a practitioner types."""
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    path = tmp_path / "triage.yaml"
    path.write_text(text.replace("    no: [n, no, nope,", "    no: [no, n, nope,"), encoding="utf-8")
    assert triage("no", load_triage_rules(path)).intent == "no"


def test_a_reviewer_can_add_a_phrase_without_touching_code(tmp_path: Path) -> None:
    before = load_triage_rules()
    assert not triage("the kid is in peril", before).emergency
    path = _write_variant(tmp_path, "        - urgent help", "        - in peril")
    assert triage("the kid is in peril", load_triage_rules(path)).emergency


def test_a_pattern_with_its_own_alternatives_keeps_its_meaning(tmp_path: Path) -> None:
    """Patterns that share a start are merged for speed; "x|y" must still mean "x" or "y"."""
    path = _write_variant(tmp_path, "  definite:", "    - <child_subject>( <w>){0,6} zqzq|qxqx")
    assert triage("qxqx", load_triage_rules(path)).intent == "disclosure"


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(max_size=400))
def test_any_text_gets_a_well_formed_answer(rules: TriageRules, text: str) -> None:
    found = triage(text, rules)
    assert found.intent is None or found.intent in INTENTS
    assert found.choice_number is None or 1 <= found.choice_number <= 20
    assert all(isinstance(term, str) for term in found.wrong_terms)


def test_long_repetitive_input_completes(rules: TriageRules) -> None:
    """Nested optional words in the patterns must not backtrack without end on hostile input."""
    for chunk in ("a ", "child told me ", "is with ", "0", "aaaa", "a@b.", "year 9 "):
        triage(chunk * 3000, rules)
