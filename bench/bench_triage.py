"""How long turn triage takes (microseconds per message), and how it scores on the triage eval set.

Run with ``.venv/bin/python bench/bench_triage.py`` (or ``make bench`` where wired). Timings
print; nothing asserts on them (machines differ). Triage runs on every message before FAQ
matching, so it should stay well under a millisecond for ordinary messages.

The eval part prints recall and false-positive rate per list of ``tests/eval/triage.yaml`` and
each message that was missed or fired wrongly, to guide a safeguarding reviewer's edits of
``knowledge/content/triage.yaml`` (the unit tests enforce the recorded levels).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from knowledge.triage import Triage, load_triage, load_triage_rules, triage  # noqa: E402
from tests.eval.legacy import triage_before_issue12 as legacy  # noqa: E402

EVAL_FILE = ROOT / "tests" / "eval" / "triage.yaml"
QUESTIONS_FILE = ROOT / "tests" / "eval" / "questions.yaml"
ROUNDS = 5

CHECKS = {
    "emergency": lambda t: t.emergency,
    "disclosure": lambda t: t.intent == "disclosure",
    "wrong_term": lambda t: bool(t.wrong_terms),
    "identifying": lambda t: t.identifying_details,
}


def _texts(items: object) -> list[str]:
    if not isinstance(items, list):
        return []
    return [item["text"] if isinstance(item, dict) else str(item) for item in items]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _time(label: str, messages: list[str], rules) -> None:
    for text in messages:  # warm up
        triage(text, rules)
    samples: list[float] = []
    for _ in range(ROUNDS):
        for text in messages:
            start = time.perf_counter()
            triage(text, rules)
            samples.append((time.perf_counter() - start) * 1e6)
    print(
        f"{label:<34} n={len(messages):4}  mean {statistics.fmean(samples):8.1f} µs  "
        f"p50 {_percentile(samples, 0.5):8.1f}  p95 {_percentile(samples, 0.95):8.1f}  max {max(samples):9.1f}"
    )


def main() -> None:
    start = time.perf_counter()
    rules = load_triage_rules()
    print(f"load_triage_rules: {(time.perf_counter() - start) * 1e3:.1f} ms")

    data = yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8")) if EVAL_FILE.exists() else {}
    eval_messages = [text for value in data.values() for text in _texts(value)]
    questions = yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8")) if QUESTIONS_FILE.exists() else {}
    faq_messages = [text for value in questions.values() for text in _texts(value)]
    commands = ["hi", "yes", "no", "2", "cancel", "cancle", "strat again", "not sure", "thanks", "help"]
    long_messages = [
        ("I'm a youth worker and I've been worried about one of our young people for a while. " * 12)
        + "What should I do next?",
        "a " * 2000,
        "child told me " * 300,
    ]
    _time("commands and answers", commands, rules)
    if eval_messages:
        _time("triage eval set", eval_messages, rules)
    if faq_messages:
        _time("FAQ eval questions", faq_messages, rules)
    _time("long messages (1-4 KB)", long_messages, rules)
    per_kb(rules)

    if not data:
        return
    print()
    for check, fired in CHECKS.items():
        positives, negatives = _texts(data.get(check)), _texts(data.get(f"not_{check}"))
        results: dict[str, Triage] = {text: triage(text, rules) for text in positives + negatives}
        missed = [text for text in positives if not fired(results[text])]
        wrong = [text for text in negatives if fired(results[text])]
        recall = 1 - len(missed) / len(positives) if positives else float("nan")
        fp_rate = len(wrong) / len(negatives) if negatives else float("nan")
        print(
            f"{check:<12} recall {recall:6.1%} ({len(positives) - len(missed)}/{len(positives)})   "
            f"false positives on not_{check} {fp_rate:6.1%} ({len(wrong)}/{len(negatives)})"
        )
        for text in missed:
            print(f"    missed: {text}")
        for text in wrong:
            print(f"    fired:  {text}")


def adversarial(size: int) -> str:
    """What used to be quadratic (capitalised words before every name check) and what costs most
    now (harm and immediacy words everywhere, long words for the typo repair)."""
    chunk = "Ruby Said The Man Hurt Her Now At School Tonight threatening disclosure . "
    return (chunk * (size // len(chunk) + 1))[:size]


def _cpu_ms(function, text: str, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        function(text)
        best = min(best, time.process_time() - start)
    return best * 1e3


def per_kb(rules) -> None:
    """Issue 12: triage CPU per KB, 1 KB to 30 KB, should be flat (linear); the rules as they were
    before issue 12 beside them (quadratic: about 4 s at 30 KB)."""
    both = load_triage()
    old = legacy.load_triage_rules(ROOT / "tests" / "eval" / "legacy" / "triage_before_issue12.yaml")
    print("\ntriage CPU per KB on an adversarial message (best of 3; ms per KB)")
    print(f"{'size':>6} {'rules':>10} {'rules + 2nd layer':>18} {'old rules':>10}")
    for kb in (1, 2, 5, 10, 20, 30):
        text = adversarial(kb * 1000)
        new = _cpu_ms(lambda t: triage(t, rules), text, 3) / kb
        with_model = _cpu_ms(lambda t: triage(t, both), text, 3) / kb
        before = _cpu_ms(lambda t: legacy.triage(t, old), text, 1) / kb if kb <= 10 or "--old" in sys.argv else float("nan")
        print(f"{kb:4} KB {new:10.1f} {with_model:18.1f} {before:10.1f}")
    print("(old rules at 20-30 KB only with --old: seconds each)")


if __name__ == "__main__":
    main()
