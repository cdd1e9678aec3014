"""Load everything the bot knows, once, at start-up; fail fast on bad content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from knowledge.disclosure import DisclosureFlow, load_flow
from knowledge.faq import Faq, load_faq
from knowledge.local_contacts import load_local_contacts
from knowledge.matcher import FaqMatcher
from knowledge.messages import Messages, load_messages
from knowledge.referrals import ReferralDirectory, load_directory, now_uk
from knowledge.triage import TriageRules, load_triage


@dataclass(frozen=True)
class Knowledge:
    faq: Faq
    matcher: FaqMatcher
    triage_rules: TriageRules
    directory: ReferralDirectory
    flow: DisclosureFlow
    messages: Messages
    clock: Callable[[], datetime] = now_uk


def load_knowledge(
    content_dir: Path | None = None,
    local_contacts_path: Path | None = None,
    clock: Callable[[], datetime] | None = None,
    model_cache_dir: Path | None = None,
) -> Knowledge:
    """Everything the bot knows; ``model_cache_dir`` keeps the fitted models (the FAQ classifier
    and the second emergency layer) between starts (see ``knowledge.classifier.trained_classifier``)."""
    faq = load_faq(content_dir)
    local = load_local_contacts(local_contacts_path) if local_contacts_path else None
    clock = clock or now_uk
    return Knowledge(
        faq=faq,
        matcher=FaqMatcher(faq, cache_dir=model_cache_dir),
        # the rules and the second emergency layer (knowledge/emergency_model.py): either raises the alarm
        triage_rules=load_triage(content_dir / "triage.yaml" if content_dir else None, cache_dir=model_cache_dir),
        directory=load_directory(content_dir, local=local, clock=clock),
        flow=load_flow(content_dir),
        messages=load_messages(content_dir),
        clock=clock,
    )
