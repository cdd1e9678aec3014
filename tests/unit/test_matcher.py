"""The matcher answers when it is sure, suggests when it is not, and admits when it does not know."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.faq import Faq, load_faq
from knowledge.matcher import Candidate, FaqMatcher, Thresholds, decide, fold_suffix
from tests.unit.faq_fixture import write_content


@pytest.fixture(scope="module")
def fixture_faq(tmp_path_factory: pytest.TempPathFactory) -> Faq:
    return load_faq(write_content(tmp_path_factory.mktemp("faq")))


@pytest.fixture(scope="module")
def matcher(fixture_faq: Faq) -> FaqMatcher:
    """The lexical matcher alone, on a small fixture FAQ (the classifier is tested below on the
    real content, which has the training examples it needs)."""
    return FaqMatcher(fixture_faq, use_classifier=False)


@pytest.fixture(scope="module")
def real_matcher(model_cache) -> FaqMatcher:
    return FaqMatcher(load_faq(), cache_dir=model_cache)


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("ceop number?", "ceop-how-to-report"),
        ("POSH", "posh-helpline"),
        ("Why shouldn't I say child pornography?", "terminology-why-not-child-pornography"),
        ("is it ok to call it child porn??", "terminology-why-not-child-pornography"),
        ("should i delete the messages on her phone", "evidence-preserve"),
    ],
)
def test_clear_questions_and_fragments_are_answered(matcher: FaqMatcher, text: str, entry_id: str) -> None:
    result = matcher.match(text)
    assert result.outcome == "answer"
    assert result.best.entry_id == entry_id


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("shoud i delet the mesages", "evidence-preserve"),
        ("preserev the evidnece", "evidence-preserve"),
        ("how do I reoprt to CEOP", "ceop-how-to-report"),
        ("how do I write down what the kid told me", "disclosure-record-verbatim"),
    ],
)
def test_typos_and_paraphrases_reach_the_entry(matcher: FaqMatcher, text: str, entry_id: str) -> None:
    result = matcher.match(text)
    assert result.best.entry_id == entry_id
    assert result.outcome in ("answer", "suggest")
    if result.outcome == "suggest":
        assert result.suggestions[0].entry_id == entry_id


@pytest.mark.parametrize(
    "text",
    ["payroll deadline", "what is the weather tomorrow", "how do I reset my password", "what is the", "why?"],
)
def test_out_of_scope_is_unknown(matcher: FaqMatcher, text: str) -> None:
    assert matcher.match(text).outcome == "unknown"


@pytest.mark.parametrize("text", ["", "   ", "?!...", "🙂🙂", "\x00"])
def test_empty_or_symbol_only_messages_are_unknown_without_crashing(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result.outcome == "unknown"
    assert result.best is None


def test_scores_rank_every_entry_best_first(matcher: FaqMatcher, fixture_faq: Faq) -> None:
    ranked = matcher.scores("report grooming to ceop")
    assert {c.entry_id for c in ranked} == {e.id for e in fixture_faq.entries}
    assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)
    assert ranked[0].entry_id == "ceop-how-to-report"
    assert all(0 <= c.score <= 100 for c in ranked)


def test_a_phrasing_held_out_no_longer_matches_itself_exactly(matcher: FaqMatcher) -> None:
    phrasing = "preserve evidence on the phone"
    assert matcher.scores(phrasing)[0].score == 100
    held = matcher.scores(phrasing, holding_out=("evidence-preserve", phrasing))
    assert held[0].score < 100


def test_close_runner_up_turns_an_answer_into_a_suggestion() -> None:
    t = Thresholds(answer=60, margin=10, suggest=30, lead_floor=101)
    close = [Candidate("a", 80), Candidate("b", 75), Candidate("c", 70), Candidate("d", 65)]
    result = decide(close, t)
    assert result.outcome == "suggest"
    assert [c.entry_id for c in result.suggestions] == ["a", "b", "c"]  # never more than three
    clear = decide([Candidate("a", 80), Candidate("b", 60)], t)
    assert clear.outcome == "answer" and clear.best.entry_id == "a"
    low = decide([Candidate("a", 29), Candidate("b", 5)], t)
    assert low.outcome == "unknown"


def test_a_wide_lead_answers_a_lower_score() -> None:
    t = Thresholds(answer=60, margin=10, suggest=30, lead_floor=40, lead_ratio=1.5)
    assert decide([Candidate("a", 45), Candidate("b", 25)], t).outcome == "answer"
    assert decide([Candidate("a", 45), Candidate("b", 35)], t).outcome == "suggest"
    assert decide([Candidate("a", 38), Candidate("b", 5)], t).outcome == "suggest"


def test_suggestions_only_include_plausible_entries() -> None:
    t = Thresholds(answer=90, margin=10, suggest=30, suggestion_window=20, lead_floor=101)
    result = decide([Candidate("a", 50), Candidate("b", 45), Candidate("c", 25)], t)
    assert result.outcome == "suggest"
    assert [c.entry_id for c in result.suggestions] == ["a", "b"]


def test_thresholds_govern_the_outcome(fixture_faq: Faq) -> None:
    never_answers = FaqMatcher(
        fixture_faq,
        replace(Thresholds(), answer=101.0, margin=101.0, lead_floor=101.0, lone_answer=101.0),
        use_classifier=False,
    )
    assert never_answers.match("report online grooming to ceop please").outcome != "answer"


def test_suffix_folding_joins_word_forms() -> None:
    assert fold_suffix("grooming") == fold_suffix("groomed") == fold_suffix("groom")
    assert fold_suffix("disclosure") == fold_suffix("disclosed") == fold_suffix("discloses")
    assert fold_suffix("images") == fold_suffix("image")
    assert fold_suffix("ceop") == "ceop"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_any_message_gets_a_well_formed_result(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result.outcome in ("answer", "suggest", "unknown")
    assert len(result.suggestions) <= 3
    assert len({c.entry_id for c in result.suggestions}) == len(result.suggestions)
    if result.outcome != "unknown":
        assert result.best is not None


# --- the shipped FAQ ---------------------------------------------------------------------------


def test_every_shipped_question_answers_its_own_entry(real_matcher: FaqMatcher) -> None:
    faq = load_faq()
    wrong = [
        (e.id, real_matcher.match(e.question).best)
        for e in faq.entries
        if real_matcher.match(e.question).outcome != "answer"
        or real_matcher.match(e.question).best.entry_id != e.id
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [("ceop number?", {"ceop-how-to-report", "ceop-what-is-it"}), ("posh", {"posh-helpline"})],
)
def test_shipped_faq_answers_service_fragments(real_matcher: FaqMatcher, text: str, entry_id: set) -> None:
    result = real_matcher.match(text)
    assert result.outcome == "answer"
    assert result.best.entry_id in entry_id


@pytest.mark.parametrize("text", ["payroll deadline", "printer is jammed", "hi"])
def test_shipped_faq_does_not_answer_out_of_scope(real_matcher: FaqMatcher, text: str) -> None:
    assert real_matcher.match(text).outcome == "unknown"


def test_a_lone_plausible_entry_is_answered_only_above_its_threshold(fixture_faq: Faq) -> None:
    from knowledge.matcher import Candidate, decide

    ranked = [Candidate("a", 47.0), Candidate("b", 30.0)]  # no wide lead (47 < 1.6 x 30), but alone
    assert decide(ranked, Thresholds()).outcome == "answer"
    assert decide(ranked, replace(Thresholds(), lone_answer=48.0)).outcome == "suggest"
    rival = [Candidate("a", 47.0), Candidate("b", 41.0)]
    assert decide(rival, Thresholds()).outcome == "suggest", "a rival within the window: ask"


def test_content_without_out_of_scope_examples_is_matched_lexically(fixture_faq: Faq) -> None:
    """The blend's thresholds assume the classifier can say "none of these"; a content directory
    with no such examples (like this fixture) falls back to the lexical thresholds."""
    matcher = FaqMatcher(fixture_faq)
    assert matcher.classifier is None
    assert matcher.match("payroll deadline").outcome == "unknown"
    assert matcher.match("ceop number?").best.entry_id == "ceop-how-to-report"
