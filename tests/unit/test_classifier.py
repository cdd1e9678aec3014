"""The FAQ classifier: right probabilities, a faithful fast path, a safe on-disk copy, and the
blended decision that uses it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from knowledge.artefacts import BUILD_DIR
from knowledge.classifier import OUT_OF_SCOPE, ClassifierSettings, IntentClassifier, trained_classifier
from knowledge.faq import load_faq
from knowledge.matcher import Blend, Candidate, FaqMatcher, Ranking, decide_blended

TEXTS = [
    "report grooming to ceop",
    "how do i make a ceop report",
    "ceop reporting online",
    "preserve evidence on the phone",
    "do not delete the messages",
    "keep the screenshots as evidence",
    "payroll deadline this month",
    "book a room for the staff meeting",
    "printer on the first floor is jammed",
]
LABELS = ["ceop"] * 3 + ["evidence"] * 3 + [OUT_OF_SCOPE] * 3
SMALL = ClassifierSettings(inverse_regularisation=10.0)


@pytest.fixture(scope="module")
def small() -> IntentClassifier:
    return IntentClassifier.train(TEXTS, LABELS, SMALL)


def test_probabilities_favour_the_label_whose_words_the_message_uses(small: IntentClassifier) -> None:
    for text, label in [
        ("ceop report", "ceop"),
        ("should i delete the messages on her phone", "evidence"),
        ("when is the payroll deadline", OUT_OF_SCOPE),
    ]:
        probabilities = small.probabilities(text)
        assert max(probabilities, key=probabilities.__getitem__) == label, text
        assert sum(probabilities.values()) == pytest.approx(1.0)


def test_the_fast_path_gives_what_scikit_learn_itself_gives(small: IntentClassifier) -> None:
    """The classifier looks n-grams up itself instead of building a sparse matrix per message;
    this proves it computes the same probabilities as scikit-learn's own pipeline."""
    vectorizers = [
        TfidfVectorizer(ngram_range=SMALL.word_ngrams, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=SMALL.char_ngrams, sublinear_tf=True, min_df=SMALL.char_min_df),
    ]
    features = hstack([v.fit_transform(TEXTS) for v in vectorizers]).tocsr()
    model = LogisticRegression(C=SMALL.inverse_regularisation, max_iter=SMALL.max_iter).fit(features, LABELS)
    for text in ["ceop report please", "deleet the mesages", "zzz", "the printer and the ceop evidence"]:
        expected = model.predict_proba(hstack([v.transform([text]) for v in vectorizers]).tocsr())[0]
        ours = small.probabilities(text)
        assert [ours[str(label)] for label in model.classes_] == pytest.approx(expected.tolist(), abs=1e-9)


def test_two_labels_work_too() -> None:
    pair = IntentClassifier.train(TEXTS[:6], LABELS[:6], SMALL)
    probabilities = pair.probabilities("ceop report")
    assert probabilities["ceop"] > probabilities["evidence"]
    assert sum(probabilities.values()) == pytest.approx(1.0)


def test_training_refuses_what_it_cannot_learn() -> None:
    with pytest.raises(ValueError):
        IntentClassifier.train(TEXTS, LABELS[:-1])
    with pytest.raises(ValueError):
        IntentClassifier.train(TEXTS[:3], LABELS[:3])


def test_the_cached_model_is_reused_and_answers_the_same(tmp_path: Path) -> None:
    first = trained_classifier(TEXTS, LABELS, SMALL, cache_dir=tmp_path)
    files = list(tmp_path.glob("classifier-*.npz"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    second = trained_classifier(TEXTS, LABELS, SMALL, cache_dir=tmp_path)
    assert files[0].stat().st_mtime_ns == stamp, "loaded, not trained and saved again"
    for text in ["ceop report", "printer jammed", "evidence"]:
        assert second.probabilities(text) == pytest.approx(first.probabilities(text))


def test_changed_content_trains_afresh_beside_the_old_model(tmp_path: Path) -> None:
    trained_classifier(TEXTS, LABELS, SMALL, cache_dir=tmp_path)
    changed = trained_classifier([*TEXTS, "ceop online referral"], [*LABELS, "ceop"], SMALL, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("classifier-*.npz"))) == 2
    assert changed.probabilities("ceop online referral")["ceop"] > 0.5


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "not finite", "short idf"])
def test_a_damaged_cache_file_is_replaced_not_fatal(tmp_path: Path, damage: str) -> None:
    trained_classifier(TEXTS, LABELS, SMALL, cache_dir=tmp_path)
    (path,) = tmp_path.glob("classifier-*.npz")
    good = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"not a model")
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    else:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        if damage == "not finite":
            arrays["weights"] = arrays["weights"] * np.nan
        else:
            arrays["idf_words"] = arrays["idf_words"][:-1]
        with path.open("wb") as handle:
            np.savez(handle, **arrays)
    again = trained_classifier(TEXTS, LABELS, SMALL, cache_dir=tmp_path)
    assert max(again.probabilities("ceop report").items(), key=lambda kv: kv[1])[0] == "ceop"
    assert IntentClassifier.load(path, SMALL).labels == again.labels, "the damaged file was replaced"


def test_the_cached_model_is_readable_by_other_users_and_keeps_its_convergence(tmp_path: Path) -> None:
    trained = trained_classifier(TEXTS, LABELS, SMALL, cache_dir=tmp_path)
    (path,) = tmp_path.glob("classifier-*.npz")
    assert path.stat().st_mode & 0o777 == 0o644
    assert IntentClassifier.load(path, SMALL).converged == trained.converged
    assert not list(tmp_path.glob("*.tmp")), "no temporary file is left behind"


def test_models_for_old_content_are_pruned_after_a_day(tmp_path: Path) -> None:
    trained_classifier(TEXTS, LABELS, SMALL, cache_dir=tmp_path)
    (old,) = tmp_path.glob("classifier-*.npz")
    two_days_ago = old.stat().st_mtime - 2 * 24 * 60 * 60
    os.utime(old, (two_days_ago, two_days_ago))
    trained_classifier([*TEXTS, "ceop online referral"], [*LABELS, "ceop"], SMALL, cache_dir=tmp_path)
    assert not old.exists()
    assert len(list(tmp_path.glob("classifier-*.npz"))) == 1


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    classifier = trained_classifier(TEXTS, LABELS, SMALL, cache_dir=blocked / "cache")
    assert classifier.probabilities("ceop report")["ceop"] > 0.5


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[FaqMatcher, Path]:
    cache = tmp_path_factory.mktemp("model-cache")
    return FaqMatcher(load_faq(), cache_dir=cache), cache


def test_the_shipped_classifier_converges_and_knows_every_entry(real: tuple[FaqMatcher, Path]) -> None:
    matcher, _ = real
    faq = load_faq()
    assert matcher.classifier is not None and matcher.classifier.converged
    assert set(matcher.classifier.labels) == {e.id for e in faq.entries} | {OUT_OF_SCOPE}


def test_the_cached_model_holds_no_message_text(real: tuple[FaqMatcher, Path]) -> None:
    matcher, cache = real
    canary = "zebracanary quokkaword pupil name"
    matcher.match(canary)
    FaqMatcher(load_faq(), cache_dir=cache).match(canary)
    # the model is in the cache, or in the build folder make fills (knowledge/artefacts.py)
    saved = [*cache.rglob("*"), *BUILD_DIR.glob("*.npz")]
    blobs = b"".join(p.read_bytes() for p in saved if p.is_file())
    assert blobs, "the model was saved"
    for word in ("zebracanary", "quokkaword"):
        assert word.encode() not in blobs and word.encode("utf-32-le") not in blobs


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        (
            "on call tonight, a residential worker asked whether she should take the young persons "
            "phone and go through the messages to see who shes been talking to",
            {"evidence-do-not-investigate", "evidence-do-not-view-or-forward", "evidence-preserve"},
        ),
        ("the lads keep sharing a girls pics round on snap, whats my role", {"nudes-frontline-response", "child-on-child-abuse"}),
    ],
)
def test_long_story_like_messages_reach_their_entry(real: tuple[FaqMatcher, Path], text: str, entry_id: set) -> None:
    result = real[0].match(text)
    assert result.best is not None and result.best.entry_id in entry_id
    assert result.outcome in ("answer", "suggest")


@pytest.mark.parametrize(
    "text",
    [
        "how do i forward an email to a colleague",
        "can you delete my teams message from yesterday",
        "risk assessment for the year 8 trip to the coast",
        "who do i report a broken projector to",
    ],
)
def test_workplace_messages_with_domain_words_are_not_answered(real: tuple[FaqMatcher, Path], text: str) -> None:
    assert real[0].match(text).outcome != "answer"


def _ranking(*scores: float, out_of_scope: float = 0.0, agreed: bool = False) -> Ranking:
    candidates = [Candidate(f"e{i}", s) for i, s in enumerate(scores)]
    return Ranking(candidates, "e0", "e0" if agreed else "e1", out_of_scope)


def test_blended_decision() -> None:
    b = Blend(answer=50, margin=10, agreed_answer=40, suggest=30, out_of_scope=0.4, suggestion_window=20)
    assert decide_blended(_ranking(60, 45), b).outcome == "answer"
    assert decide_blended(_ranking(60, 55), b).outcome == "suggest", "too close to the next entry"
    assert decide_blended(_ranking(45, 40, agreed=True), b).outcome == "answer", "both models agree"
    assert decide_blended(_ranking(45, 40), b).outcome == "suggest"
    assert decide_blended(_ranking(25, 5), b).outcome == "unknown"
    assert decide_blended(_ranking(90, 5, out_of_scope=0.5), b).outcome == "unknown", "not what the bot is for"
    assert decide_blended(_ranking(100, 5, out_of_scope=0.9), b).outcome == "answer", "an exact phrasing"
    suggest = decide_blended(_ranking(45, 40, 35, 10), b)
    assert [c.entry_id for c in suggest.suggestions] == ["e0", "e1", "e2"]
    assert decide_blended(Ranking([], None, None, 0.0), b).outcome == "unknown"
    vague = Ranking([Candidate("e0", 90), Candidate("e1", 5)], "e0", "e0", 0.0, specific=False)
    assert decide_blended(vague, b).outcome == "suggest", "no word specific to a few entries"


@pytest.mark.parametrize("text", ["child", "online", "report", "images"])
def test_a_lone_common_word_is_never_answered_outright(real: tuple[FaqMatcher, Path], text: str) -> None:
    assert real[0].match(text).outcome != "answer"


@pytest.mark.parametrize(
    ("text", "entry_id"), [("ceop", "ceop-what-is-it"), ("sextortion", "ocsa-coercion-blackmail"), ("posh", "posh-helpline")]
)
def test_a_lone_specific_word_is_answered(real: tuple[FaqMatcher, Path], text: str, entry_id: str) -> None:
    result = real[0].match(text)
    assert (result.outcome, result.best.entry_id) == ("answer", entry_id)


@pytest.mark.parametrize(
    "text", ["a teacher asked what indecent images of children is", "someone mentioned indecent images of children in class"]
)
def test_leaving_entries_out_never_makes_the_rest_an_outright_answer(real: tuple[FaqMatcher, Path], text: str) -> None:
    """The terminology entries are left out once a wrong term has been corrected; a question
    that was really about the words then gets "did you mean", not a confident other answer."""
    matcher = real[0]
    terminology = frozenset(e.id for e in load_faq().entries_in("terminology"))
    full = matcher.scores(text)
    best_terminology = max(c.score for c in full if c.entry_id in terminology)
    assert best_terminology >= full[0].score - matcher.blend.margin, "the premise: terminology is in contention"
    assert matcher.match(text, excluding=terminology).outcome != "answer"


def test_excluded_entries_are_never_matched_or_suggested(real: tuple[FaqMatcher, Path]) -> None:
    matcher = real[0]
    terminology = frozenset(e.id for e in load_faq().entries_in("terminology"))
    text = "what do i do if i find indecent images of children on a school laptop"
    free = matcher.match(text, excluding=terminology)
    assert free.best is not None and free.best.entry_id not in terminology
    assert not {c.entry_id for c in free.suggestions} & terminology
    assert matcher.match("why shouldn't I say child pornography").best.entry_id in terminology
