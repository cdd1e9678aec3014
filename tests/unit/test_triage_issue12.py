"""Issue 12: the emergency rules grounded in the verified criteria, negations that cannot cancel a
strong signal, the kinds of emergency that used to be missed, linear work, and the second layer.

Messages here are written for these tests (not copied from tests/eval/emergency.yaml).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge import emergency_model
from knowledge.triage import (
    DEFAULT_RULES_PATH,
    MAX_TRIAGE_CHARS,
    TriageRules,
    _at_sentence_start,
    emergency_criteria,
    load_triage,
    load_triage_rules,
    rules_alarm,
    triage,
)

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
EVAL_SET = Path(__file__).resolve().parents[1] / "eval" / "emergency.yaml"


@pytest.fixture(scope="module")
def rules() -> TriageRules:
    return load_triage_rules()


@pytest.fixture(scope="module")
def both() -> TriageRules:
    return load_triage()


# ------------------------------------------------------------------ the criteria, for a reviewer


def test_every_pattern_group_names_the_verified_criterion_it_serves() -> None:
    spec = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))["emergency"]["criteria"]
    ids = {group["id"] for group in spec}
    assert {
        "said-to-be-in-danger", "suicidal-or-self-harming", "violence-or-threat", "serious-injury",
        "serious-crime-in-progress", "missing-at-risk", "contact-with-abuser-now", "abuse-live",
        "threat-with-deadline", "past-harm-present-danger",
    } <= ids  # fmt: skip
    for group in spec:
        assert group["status"] in ("verified", "unconfirmed"), group["id"]
        assert group["source"].split("#")[0].split(" ")[0] in ("practice.md", "guidance.md"), group["id"]
        assert group.get("weak") or group.get("strong"), group["id"]


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="the shared reference is not beside this checkout")
def test_the_sources_named_hold_the_criteria() -> None:
    practice = (REFERENCE / "practice.md").read_text(encoding="utf-8")
    guidance = (REFERENCE / "guidance.md").read_text(encoding="utf-8")
    for criterion in ("danger to life", "serious injury", "a serious crime in progress"):
        assert criterion in practice
    assert "suicidal or self-harming" in guidance


# ------------------------------------------------------------------ negations


@pytest.mark.parametrize(
    "text",
    [
        "the girl does not feel safe at home",
        "he doesn't feel safe going back there tonight",
        "she said she is not safe at home",
        "pupil says she can't feel safe with her stepdad in the house",
    ],
)
def test_not_feeling_safe_raises_the_alarm(rules: TriageRules, text: str) -> None:
    assert triage(text, rules).emergency


@pytest.mark.parametrize(
    "text",
    [
        "she is not in danger, I just want advice about a referral",
        "no immediate risk, it's about images on a laptop",
        "this is a non-emergency question about policy",
        "he is missing school on fridays",
        "the toddler hurt himself falling off the sofa",
    ],
)
def test_a_negation_still_says_the_opposite_of_an_alarm(rules: TriageRules, text: str) -> None:
    assert not triage(text, rules).emergency


STRONG = [
    "he is hurting her right now",
    "she is being raped right now",
    "he is taking an overdose",
    "help me right now",
    "the child has bruises on her face and said her dad hit her",
]
NEGATIONS = [
    "she is safe now", "not in danger", "no immediate risk", "non-emergency", "not suicidal",
    "missing school", "not an emergency", "is safe at home", "no longer at risk",
]  # fmt: skip


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(strong=st.sampled_from(STRONG), negation=st.sampled_from(NEGATIONS), before=st.booleans())
def test_no_negation_cancels_a_strong_signal(rules: TriageRules, strong: str, negation: str, before: bool) -> None:
    text = f"{negation}, but {strong}" if before else f"{strong}, {negation}"
    assert triage(text, rules).emergency, text


# ------------------------------------------------------------------ the kinds that were missed


@pytest.mark.parametrize(
    ("text", "criterion"),
    [
        ("a 13 year old just climbed into a van with some men none of us recognised", "serious-crime-in-progress"),
        ("the man who abused her is outside the door of her flat", "contact-with-abuser-now"),
        ("her abuser is at the school reception asking for her", "contact-with-abuser-now"),
        ("nobody knows where the boy is and his phone is switched off", "missing-at-risk"),
        ("a man she met online is arriving to meet her in 5 minutes", "contact-with-abuser-now"),
        ("they say pay by midnight or his nudes go to his whole school", "threat-with-deadline"),
        ("the boy has a black eye and says his uncle punched him", "serious-injury"),
        ("he hurt her last night and she has to go home to him", "past-harm-present-danger"),
        ("he has taken a lot of his mum's tablets", "suicidal-or-self-harming"),
        ("a girl is on a live video with a man who is telling her what to do", "abuse-live"),
    ],
)
def test_the_kinds_that_were_missed_now_alarm_under_their_criterion(rules: TriageRules, text: str, criterion: str) -> None:
    assert rules_alarm(text, rules), text
    assert criterion in emergency_criteria(text, rules)


@pytest.mark.parametrize(
    "text",
    [
        "what counts as immediate danger?",
        "what is immediate danger",
        "when should I call 999?",
        "is sextortion an emergency?",
        "what is the missing child procedure",
        "what are the signs a child is being groomed",
    ],
)
def test_definition_questions_get_an_answer_not_an_alarm(both: TriageRules, text: str) -> None:
    assert not triage(text, both).emergency, triage(text, both).emergency_by


# ------------------------------------------------------------------ the second layer


def test_either_layer_can_raise_the_alarm_and_says_which(both: TriageRules, rules: TriageRules) -> None:
    # wording the rules do not list; the second layer reads it
    text = "the lad hopped in a motor with some blokes none of us know"
    found = triage(text, both)
    assert found.emergency and "model" in found.emergency_by
    assert triage("he is hurting her right now", both).emergency_by == ("rules", "model")
    assert triage("what do I write in the safeguarding record", both).emergency_by == ()


def test_the_second_layer_finds_danger_at_the_end_of_a_long_story(both: TriageRules) -> None:
    assert both.model is not None
    story = "I've been supporting this family for a while and we have had meetings about attendance. " * 40
    assert not both.model.alarm(story)
    assert both.model.alarm(story + "and now she has just got into a car with two men nobody knows")


def test_the_training_examples_are_not_in_the_eval_set() -> None:
    examples = emergency_model.load_examples()
    data = yaml.safe_load(EVAL_SET.read_text(encoding="utf-8"))
    evaluated = {t.casefold() for part in ("dev", "holdout") for kind in data[part] for t in data[part][kind]}
    trained = {t.casefold() for t in (*examples.emergency, *examples.not_emergency)}
    assert not trained & evaluated


def test_a_cached_second_layer_decides_as_the_trained_one(
    tmp_path: Path, both: TriageRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no prebuilt artefacts (make's build/artefacts would be used instead of the cache)
    monkeypatch.setattr("knowledge.artefacts.BUILD_DIR", tmp_path / "no-build")
    monkeypatch.delenv("BOT_ARTEFACT_DIRS", raising=False)
    cached = load_triage(cache_dir=tmp_path)
    again = load_triage(cache_dir=tmp_path)  # read from the cache this time
    assert list(tmp_path.glob("classifier-*.npz"))
    for text in ("the man is outside her window now", "how do I refer to MASH", "she has gone missing with an older man"):
        assert cached.model.probability(text) == pytest.approx(both.model.probability(text))
        assert again.model.probability(text) == pytest.approx(cached.model.probability(text))


# ------------------------------------------------------------------ linear, bounded work

_OLD_SENTENCE_START = re.compile(r"(?:^|[.!?\n:;]\s*|[\"(]\s*)$")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=" \n\t.!?:;\"(aBc'", max_size=40), st.integers(min_value=0, max_value=40))
def test_the_linear_sentence_start_check_agrees_with_the_old_regex(text: str, position: int) -> None:
    position = min(position, len(text))
    assert _at_sentence_start(text, position) == (_OLD_SENTENCE_START.search(text[:position]) is not None)


def test_a_30_kb_adversarial_message_is_read_to_the_end(both: TriageRules) -> None:
    chunk = "Ruby Said The Man Hurt Her Now At School Tonight threatening disclosure . "
    body = (chunk * (MAX_TRIAGE_CHARS // len(chunk)))[: MAX_TRIAGE_CHARS - 40]
    assert triage(body + " she is being raped right now", both).emergency
    found = triage("Ruby Jones " * 3000, both)  # capitalised names all the way: the old quadratic case
    assert found.identifying_details
