"""How long FaqMatcher takes: construction, and one match per eval question (microseconds).

Run with ``make bench``. Timings print; nothing asserts on them (machines differ), but the target
is well under a millisecond per message at this FAQ size.
"""

from __future__ import annotations

import statistics
import time

from knowledge.faq import load_faq
from knowledge.matcher import FaqMatcher
from tests.eval.run_eval import load_eval_set

ROUNDS = 5


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    faq = load_faq()
    build_times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        matcher = FaqMatcher(faq)
        build_times.append((time.perf_counter() - start) * 1e6)
    eval_set = load_eval_set()
    messages = [item.text for item in eval_set.in_scope] + list(eval_set.out_of_scope)
    for text in messages:  # warm up
        matcher.match(text)
    samples: list[float] = []
    for _ in range(ROUNDS):
        for text in messages:
            start = time.perf_counter()
            matcher.match(text)
            samples.append((time.perf_counter() - start) * 1e6)
    phrasings = sum(len(e.phrasings) for e in faq.entries)
    print(f"FaqMatcher: {len(faq.entries)} entries, {phrasings} phrasings; "
          f"{len(messages)} messages x {ROUNDS} rounds")
    print(f"{'measure':<24}{'microseconds':>14}")
    rows = [
        ("construction (median)", statistics.median(build_times)),
        ("match mean", statistics.fmean(samples)),
        ("match p50", _percentile(samples, 0.50)),
        ("match p99", _percentile(samples, 0.99)),
        ("match max", max(samples)),
    ]
    for name, value in rows:
        print(f"{name:<24}{value:>14.0f}")


if __name__ == "__main__":
    main()
