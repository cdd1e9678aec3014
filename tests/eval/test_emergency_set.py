"""The emergency eval set (issue 12): its shape, and the dev half's recorded levels.

The held-out half is only reported (``make eval``, ``python -m tests.eval.triage_eval``), never
asserted on message by message: a test naming its misses would make it seen. Its aggregate is held
to a floor below the measured level, so a change that makes the bot miss more children fails.
"""

from __future__ import annotations

import pytest

from knowledge.triage import load_triage
from tests.eval.triage_eval import load_set, rates

#: measured 2026-12-02 (README "Emergency triage"): dev 98.7% / 5.1%, holdout 96.7% / 11.2%
DEV_MIN_RECALL, DEV_MAX_FALSE = 0.97, 0.08
HOLDOUT_MIN_RECALL, HOLDOUT_MAX_FALSE = 0.95, 0.14


@pytest.fixture(scope="module")
def data():
    return load_set()


def test_the_set_is_big_enough_and_its_halves_apart(data) -> None:
    emergencies = data["dev"]["emergency"] + data["holdout"]["emergency"]
    near = data["dev"]["near_miss"] + data["holdout"]["near_miss"]
    assert len(emergencies) >= 150 and len(near) >= 150
    assert len(data["holdout"]["emergency"]) >= 75 and len(data["holdout"]["near_miss"]) >= 75
    dev = {t.casefold() for kind in data["dev"].values() for t in kind}
    held = {t.casefold() for kind in data["holdout"].values() for t in kind}
    assert not dev & held


def test_the_bot_holds_its_measured_levels(data) -> None:
    both = load_triage()

    def decide(text: str) -> bool:
        from knowledge.triage import triage

        return triage(text, both).emergency

    dev_recall, dev_false = rates(decide, data["dev"])
    held_recall, held_false = rates(decide, data["holdout"])
    assert dev_recall >= DEV_MIN_RECALL and dev_false <= DEV_MAX_FALSE, (dev_recall, dev_false)
    assert held_recall >= HOLDOUT_MIN_RECALL and held_false <= HOLDOUT_MAX_FALSE, (held_recall, held_false)
