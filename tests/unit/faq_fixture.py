"""A small, valid FAQ written to a temporary content directory, for tests that must not depend on
the real content (which the content team changes)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

REVIEW = {"owner": "safeguarding-lead", "last_reviewed": "2026-11-24", "review_by": "2027-05-24"}


def _entry(entry_id, topic, question, alternates, answer, section, **extra):
    entry = {
        "id": entry_id,
        "topic": topic,
        "question": question,
        "alternates": alternates,
        "answer": answer,
        "sources": [{"briefing": section}],
        "related": [],
        "review": dict(REVIEW),
    }
    entry.update(extra)
    return entry


FAQ = {
    "version": 1,
    "topics": [
        {"id": "terminology", "title": "Terminology"},
        {"id": "digital-evidence", "title": "Digital evidence"},
        {"id": "disclosure", "title": "Responding to a disclosure"},
        {"id": "services", "title": "Services and helplines"},
    ],
    "entries": [
        _entry(
            "terminology-why-not-child-pornography",
            "terminology",
            "Why shouldn't I say child pornography?",
            ["is it ok to call it child porn", "what is wrong with the term child pornography"],
            "Because it is child sexual abuse, and a crime.",
            "introduction",
            related=["terminology-what-to-say-instead"],
        ),
        _entry(
            "terminology-what-to-say-instead",
            "terminology",
            "What term should I use instead?",
            ["correct terminology for abuse images", "what do I call indecent images"],
            "Say child sexual abuse material.",
            "introduction",
        ),
        _entry(
            "evidence-do-not-view-or-forward",
            "digital-evidence",
            "Should I look at the image a pupil showed me?",
            ["can I forward the nude to the DSL", "should I view the photo to check it"],
            "No. Never view or forward sexual images of children.",
            "digital-evidence",
            detail="Tell the designated safeguarding lead instead.",
            related=["evidence-preserve"],
        ),
        _entry(
            "evidence-preserve",
            "digital-evidence",
            "Should I delete the messages?",
            ["do we keep the evidence", "preserve evidence on the phone"],
            "Do not delete messages or images unless the police advise you to.",
            "digital-evidence",
        ),
        _entry(
            "disclosure-record-verbatim",
            "disclosure",
            "How do I record what the child said?",
            ["write down the disclosure", "record the child's words"],
            "Record the child's words verbatim as soon as possible.",
            "responding-to-disclosure",
        ),
        _entry(
            "disclosure-stay-calm",
            "disclosure",
            "How should I react when a child tells me?",
            ["what to do when a child discloses", "stay calm and listen"],
            "Stay calm and listen; do not express shock or disbelief.",
            "responding-to-disclosure",
        ),
        _entry(
            "ceop-how-to-report",
            "services",
            "How do I report to CEOP?",
            ["ceop number", "report online grooming to ceop"],
            "Use the CEOP Safety Centre's online form.",
            "more-information",
            services=["ceop"],
        ),
        _entry(
            "posh-helpline",
            "services",
            "What is the Professionals Online Safety Helpline?",
            ["posh", "helpline for staff with online safety issues"],
            "Free, independent advice for people who work with children.",
            "posh",
            services=["posh"],
        ),
    ],
}

SYNONYMS = {
    "version": 1,
    "abbreviations": {"dsl": "designated safeguarding lead", "yp": "young person"},
    "spelling": {"color": "colour", "behavior": "behaviour"},
    "phrases": {"child porn": "child pornography", "nude pic": "nude image"},
}

SECTIONS = {
    "sections": [
        {"id": "introduction", "title": "Introduction", "covers": "terminology"},
        {"id": "digital-evidence", "title": "Digital evidence", "covers": "evidence"},
        {"id": "responding-to-disclosure", "title": "Responding", "covers": "disclosure"},
        {"id": "more-information", "title": "For more information", "covers": "CEOP"},
        {"id": "posh", "title": "Professionals Online Safety Helpline", "covers": "POSH"},
    ]
}


def write_content(directory: Path, faq: dict | None = None, synonyms: dict | None = None,
                  sections: dict | None = None) -> Path:
    """Write the fixture (or a variant of it) as YAML files; returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in (
        ("faq.yaml", FAQ if faq is None else faq),
        ("synonyms.yaml", SYNONYMS if synonyms is None else synonyms),
        ("briefing_sections.yaml", SECTIONS if sections is None else sections),
    ):
        (directory / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return directory


def faq_copy() -> dict:
    return copy.deepcopy(FAQ)
