"""How long FaqMatcher takes: construction (training the classifier, or loading it from the cache),
and one match per eval question (microseconds), with the lexical part and the classifier apart.

Run with ``make bench``. Timings print; nothing asserts on them (machines differ), but the target
is well under a millisecond per message at this FAQ size.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from knowledge.faq import load_faq
from knowledge.matcher import FaqMatcher
from tests.eval.run_eval import load_eval_set

ROUNDS = 5


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _timed(build) -> tuple[float, object]:
    start = time.perf_counter()
    built = build()
    return (time.perf_counter() - start) * 1e6, built


def _match_times(match, messages: list[str]) -> list[float]:
    for text in messages:  # warm up
        match(text)
    samples: list[float] = []
    for _ in range(ROUNDS):
        for text in messages:
            start = time.perf_counter()
            match(text)
            samples.append((time.perf_counter() - start) * 1e6)
    return samples


def main() -> None:
    faq = load_faq()
    with tempfile.TemporaryDirectory() as cache:
        trained, matcher = _timed(lambda: FaqMatcher(faq, cache_dir=Path(cache)))
        loaded, _ = _timed(lambda: FaqMatcher(faq, cache_dir=Path(cache)))
    lexical_build, lexical = _timed(lambda: FaqMatcher(faq, use_classifier=False))
    eval_set = load_eval_set()
    messages = [item.text for item in eval_set.in_scope] + list(eval_set.out_of_scope)
    samples = _match_times(matcher.match, messages)
    lexical_samples = _match_times(lexical.match, messages)
    read = [" ".join(matcher.normaliser.normalise(t).split()) for t in messages]
    classifier_samples = _match_times(matcher.classifier.probabilities, read)
    phrasings = sum(len(e.phrasings) for e in faq.entries)
    print(f"FaqMatcher: {len(faq.entries)} entries, {phrasings} phrasings, {len(faq.examples)} "
          f"classifier examples; {len(messages)} messages x {ROUNDS} rounds")
    print(f"{'measure':<34}{'microseconds':>14}")
    rows = [
        ("construction, training the model", trained),
        ("construction, model from cache", loaded),
        ("construction, lexical only", lexical_build),
        ("match mean", statistics.fmean(samples)),
        ("match p50", _percentile(samples, 0.50)),
        ("match p99", _percentile(samples, 0.99)),
        ("match max", max(samples)),
        ("  lexical only: p50", _percentile(lexical_samples, 0.50)),
        ("  lexical only: p99", _percentile(lexical_samples, 0.99)),
        ("  classifier only: p50", _percentile(classifier_samples, 0.50)),
        ("  classifier only: p99", _percentile(classifier_samples, 0.99)),
    ]
    for name, value in rows:
        print(f"{name:<34}{value:>14.0f}")


if __name__ == "__main__":
    main()
