"""Triage measured on the independent eval set, tests/eval/triage.yaml (written by another engineer).

Emergency recall must be 100%: a missed child in danger is the one failure the bot cannot
afford. The other rates are held to recorded levels so a pattern change that makes them worse
fails here. `python bench/bench_triage.py` prints the rates and the misses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from knowledge.triage import Triage, TriageRules, load_triage_rules, triage

EVAL_FILE = Path(__file__).resolve().parents[1] / "eval" / "triage.yaml"

#: check name -> what "triggered" means for a message in that list
CHECKS: dict[str, Callable[[Triage], bool]] = {
    "emergency": lambda t: t.emergency,
    "disclosure": lambda t: t.intent == "disclosure",
    "wrong_term": lambda t: bool(t.wrong_terms),
    "identifying": lambda t: t.identifying_details,
}

#: Recorded levels (measured 2026-11-26: every list 100% recall, 0% false positives). The floors
#: and ceilings leave room for the set to grow with a hard case or two; emergency recall has none.
MIN_RECALL = {"emergency": 1.0, "disclosure": 0.95, "wrong_term": 0.95, "identifying": 0.95}
MAX_FALSE_POSITIVE_RATE = {"emergency": 0.05, "disclosure": 0.05, "wrong_term": 0.05, "identifying": 0.05}


def _messages(items: list) -> list[str]:
    return [item["text"] if isinstance(item, dict) else str(item) for item in items or []]


@pytest.fixture(scope="module")
def eval_set() -> dict[str, list[str]]:
    data = yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))
    return {key: _messages(value) for key, value in data.items() if isinstance(value, list)}


@pytest.fixture(scope="module")
def rules() -> TriageRules:
    return load_triage_rules()


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_recall_on_the_eval_set(check: str, eval_set: dict[str, list[str]], rules: TriageRules) -> None:
    positives = eval_set[check]
    assert positives, f"the eval set has no {check!r} list"
    missed = [text for text in positives if not CHECKS[check](triage(text, rules))]
    recall = 1 - len(missed) / len(positives)
    assert recall >= MIN_RECALL[check], f"{check} recall {recall:.1%}; missed: {missed}"


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_false_positive_rate_on_the_eval_set(check: str, eval_set: dict[str, list[str]], rules: TriageRules) -> None:
    negatives = eval_set[f"not_{check}"]
    assert negatives, f"the eval set has no 'not_{check}' list"
    fired = [text for text in negatives if CHECKS[check](triage(text, rules))]
    rate = len(fired) / len(negatives)
    assert rate <= MAX_FALSE_POSITIVE_RATE[check], f"not_{check} false positives {rate:.1%}: {fired}"


def test_every_emergency_is_found_whatever_the_capitals_or_trailing_punctuation(
    eval_set: dict[str, list[str]], rules: TriageRules
) -> None:
    """The same messages typed in capitals, or with "!!" at the end, are still emergencies."""
    variants = [text.upper() for text in eval_set["emergency"]] + [text + "!!" for text in eval_set["emergency"]]
    missed = [text for text in variants if not triage(text, rules).emergency]
    assert not missed
