"""Emergency triage, measured (issue 12): recall and false alarms on ``emergency.yaml``.

For each half of ``tests/eval/emergency.yaml`` (``dev``, tuned on; ``holdout``, read only to
report) it prints, in one run:

- old rules: ``knowledge/triage.py`` and ``triage.yaml`` as they were before issue 12 (kept under
  ``tests/eval/legacy/``);
- new rules: the first layer alone (``knowledge.triage.rules_alarm``);
- second layer: the classifier alone (``knowledge.emergency_model``; it reads the rules' signals
  as marker words, but its decision is its own);
- both: what the bot does (either layer raises the alarm).

recall = share of emergencies that get 999 first; false alarms = share of near-misses that do.
``--misses`` lists the dev messages missed or alarmed wrongly (never the holdout's: that would make
it seen). ``--calibrate`` prints the threshold table the second layer was chosen from (5-fold
cross-validation over its training examples, and the dev half).

Run as ``python -m tests.eval.triage_eval`` from the repository root (``make eval`` runs it).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import yaml

from knowledge import emergency_model
from knowledge.triage import load_triage, load_triage_rules, read_as_rules, rules_alarm, signal_reader, triage

EVAL_DIR = Path(__file__).resolve().parent
EMERGENCY_SET = EVAL_DIR / "emergency.yaml"
LEGACY_RULES = EVAL_DIR / "legacy" / "triage_before_issue12.yaml"

#: The issue's targets, on the held-out half.
TARGET_RECALL = 0.99
TARGET_FALSE_ALARMS = 0.10


def load_set(path: Path = EMERGENCY_SET) -> dict[str, dict[str, list[str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {part: {kind: list(data[part][kind]) for kind in ("emergency", "near_miss")} for part in ("dev", "holdout")}


def layers() -> dict[str, Callable[[str], bool]]:
    """Each way of deciding, by name, in the order the table prints them."""
    from tests.eval.legacy import triage_before_issue12 as legacy

    old = legacy.load_triage_rules(LEGACY_RULES)
    both = load_triage()
    rules = both.with_model(None)
    model = both.model
    assert model is not None
    return {
        "old rules (before issue 12)": lambda text: legacy.triage(text, old).emergency,
        "new rules": lambda text: rules_alarm(text, rules),
        "second layer alone": model.alarm,
        "both (the bot)": lambda text: triage(text, both).emergency,
    }


def rates(decide: Callable[[str], bool], part: dict[str, list[str]]) -> tuple[float, float]:
    emergencies, near = part["emergency"], part["near_miss"]
    recall = sum(map(decide, emergencies)) / len(emergencies)
    false_alarms = sum(map(decide, near)) / len(near)
    return recall, false_alarms


def report(misses: bool = False) -> list[str]:
    data = load_set()
    deciders = layers()
    lines = [
        f"emergency triage (tests/eval/emergency.yaml): dev {len(data['dev']['emergency'])}+{len(data['dev']['near_miss'])}, "
        f"holdout {len(data['holdout']['emergency'])}+{len(data['holdout']['near_miss'])} (emergencies + near-misses)",
        f"{'':30} {'dev recall':>11} {'dev false':>10} {'holdout recall':>15} {'holdout false':>14}",
    ]
    for name, decide in deciders.items():
        dev, held = rates(decide, data["dev"]), rates(decide, data["holdout"])
        lines.append(f"{name:30} {dev[0]:11.1%} {dev[1]:10.1%} {held[0]:15.1%} {held[1]:14.1%}")
    held = rates(deciders["both (the bot)"], data["holdout"])
    met = held[0] >= TARGET_RECALL and held[1] <= TARGET_FALSE_ALARMS
    lines.append(
        f"targets on holdout: recall >= {TARGET_RECALL:.0%}, false alarms <= {TARGET_FALSE_ALARMS:.0%}: "
        + ("met" if met else "NOT met")
    )
    if misses:
        both = deciders["both (the bot)"]
        lines += [f"  dev MISSED  {t!r}" for t in data["dev"]["emergency"] if not both(t)]
        lines += [f"  dev ALARMED {t!r}" for t in data["dev"]["near_miss"] if both(t)]
    return lines


def calibrate(folds: int = 5) -> list[str]:
    """Out-of-fold probabilities over the training examples, and the dev half, per threshold."""
    rules = load_triage_rules()
    seen: dict[str, bool] = {}

    def alarm(text: str) -> bool:
        if text not in seen:
            seen[text] = rules_alarm(text, rules)
        return seen[text]

    def norm(text: str) -> str:
        return read_as_rules(text, rules)

    def reader(normal: str):
        return signal_reader(normal, rules)

    examples = emergency_model.load_examples()
    items = [(t, True) for t in examples.emergency] + [(t, False) for t in examples.not_emergency]
    random.Random(0).shuffle(items)
    out_of_fold: list[tuple[float, bool, bool]] = []
    for k in range(folds):
        fold = [item for i, item in enumerate(items) if i % folds == k]
        model = emergency_model.train_emergency_model(alarm, norm, reader, exclude=frozenset(t for t, _ in fold))
        out_of_fold += [(model.probability(t), label, alarm(t)) for t, label in fold]
    model = emergency_model.train_emergency_model(alarm, norm, reader)
    dev = load_set()["dev"]
    lines = ["threshold  out-of-fold recall / false (rules or model)   dev recall / false (rules or model)"]
    for threshold in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        pos = [p >= threshold or r for p, label, r in out_of_fold if label]
        neg = [p >= threshold or r for p, label, r in out_of_fold if not label]
        with_threshold = replace(model.settings, threshold=threshold)
        dev_model = emergency_model.EmergencyModel(model.classifier, norm, reader, with_threshold)
        dev_r = sum(dev_model.alarm(t) or alarm(t) for t in dev["emergency"]) / len(dev["emergency"])
        dev_f = sum(dev_model.alarm(t) or alarm(t) for t in dev["near_miss"]) / len(dev["near_miss"])
        lines.append(
            f"{threshold:9.2f}  {sum(pos) / len(pos):18.1%} / {sum(neg) / len(neg):5.1%}"
            f"                  {dev_r:10.1%} / {dev_f:5.1%}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the dev half's misses and false alarms")
    parser.add_argument("--calibrate", action="store_true", help="print the second layer's threshold table")
    args = parser.parse_args(argv)
    print("\n".join(calibrate() if args.calibrate else report(args.misses)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
