"""``python -m knowledge.check`` (``make check-content``): is the FAQ content safe to ship?

The schema is pydantic's job (``knowledge.faq``); this adds the checks that span records:
citations resolve, every briefing section is reachable, no contact detail hides in answer text
(they belong in the referral directory, with a source and a verified date), no alternate is
really another entry's question, and reviews are not overdue (reported, not fatal: an overdue
review should prompt a reviewer, not take the bot down).

Exit status 1 with one readable line per problem; 0 otherwise (warnings still printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.faq import SERVICE_IDS, ContentError, Faq, load_faq
from knowledge.matcher import FaqMatcher
from knowledge.models import REFERENCE_CITATION, REFERENCE_CITATION_FORMS

CONTENT_DIR = Path(__file__).parent / "content"
#: The shared folder (the OCSA briefing and the reference the content cites): ``$SHARED_DIR``, by
#: default ``../shared`` beside the repository. Without it the citation checks and the tests that
#: compare the directory with the reference are skipped, with a note (CI fails on those skips).
SHARED_DIR = Path(os.environ.get("SHARED_DIR") or Path(__file__).resolve().parents[1].parent / "shared")
REFERENCE_DIR = SHARED_DIR / "reference"

#: A citation of the shared reference anywhere in a content file.
_CITATION = re.compile(r"(?<![\w.-])(?P<document>guidance\.md|contacts\.yaml|practice\.md)#(?P<anchor>[A-Za-z0-9_-]+)")


#: Contact details that must not appear in answer text (999 and 101 are allowed: they are the
#: emergency and non-emergency police numbers everyone must be able to read at a glance).
_CONTACT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("phone number", re.compile(r"(?:\+44\s?|\b0)\d(?:[\s-]?\d){6,}\b")),
    ("phone number", re.compile(r"\b(?:111|112|116\s?\d{3})\b")),
    ("email address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("web address", re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)),
    (
        "web address",
        re.compile(
            r"(?<![@\w.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:uk|com|org|net|gov|info|io)\b", re.I
        ),
    ),
    ("phone link", re.compile(r"\btel:", re.IGNORECASE)),
)

#: Safety rule 3: this wording appears only where an entry explains why not to use it.
_WRONG_TERM = re.compile(r"\bchild\s+porn(?:ography)?\b|\bkiddie\s+porn\b", re.IGNORECASE)
_WRONG_TERM_TOPIC = "terminology"


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: advisory: alternates that, as unseen text, would be answered as another entry
    overlaps: list[str] = field(default_factory=list)
    #: checks that could not run here (printed, not failures)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def contact_details_in(text: str) -> list[str]:
    """Describe each phone number, email or web address found in answer text."""
    found = []
    for kind, pattern in _CONTACT_PATTERNS:
        for match in pattern.finditer(text):
            found.append(f"{kind} {match.group(0)!r}")
    return found


def check_citations(faq: Faq, report: Report) -> None:
    section_ids = {s.id for s in faq.sections}
    cited: set[str] = set()
    for entry in faq.entries:
        for source in entry.sources:
            if source.briefing:
                if source.briefing not in section_ids:
                    report.errors.append(
                        f"faq.yaml entry {entry.id}: sources cite unknown briefing section "
                        f"{source.briefing!r}"
                    )
                cited.add(source.briefing)
            elif source.reference:
                found = REFERENCE_CITATION.match(source.reference)
                if not found:
                    report.errors.append(
                        f"faq.yaml entry {entry.id}: reference {source.reference!r} is not "
                        + REFERENCE_CITATION_FORMS
                    )
                elif found.group("service") and found.group("service") not in SERVICE_IDS:
                    report.errors.append(
                        f"faq.yaml entry {entry.id}: reference {source.reference!r} names an "
                        "unknown service"
                    )
    for section in faq.sections:
        if section.id not in cited:
            report.errors.append(
                f"briefing section {section.id!r} ({section.title}) is cited by no FAQ entry"
            )


def check_answer_text(faq: Faq, report: Report) -> None:
    for entry in faq.entries:
        for field_name, text in (("answer", entry.answer), ("detail", entry.detail or "")):
            for found in contact_details_in(text):
                report.errors.append(
                    f"faq.yaml entry {entry.id}.{field_name}: contains a {found}; name the "
                    "service in `services:` and let the referral directory supply contact details"
                )
            if entry.topic != _WRONG_TERM_TOPIC and _WRONG_TERM.search(text):
                report.errors.append(
                    f"faq.yaml entry {entry.id}.{field_name}: says 'child pornography'; use "
                    "'child sexual abuse material' or 'indecent images of children'"
                )


def check_alternates(faq: Faq, matcher: FaqMatcher, report: Report) -> None:
    """Each phrasing must reach its own entry; held out, it should not be answered as another.

    Error: a phrasing that scores at least as well on another entry as on its own, even while it
    is in the FAQ (a duplicate, or a phrasing that says the same words as another entry's).
    Advisory (``--verbose``): a phrasing that, held out as unseen text, is *confidently answered*
    as another entry: the two entries overlap, and real messages like it may be misrouted. Many
    such overlaps are natural (disclosure steps, nudes guidance), so they guide editing rather
    than fail the build.
    """
    for entry in faq.entries:
        for phrasing in entry.phrasings:
            ranked = matcher.scores(phrasing)
            if not ranked:
                report.errors.append(f"faq.yaml entry {entry.id}: phrasing {phrasing!r} has no words")
                continue
            own = next(c.score for c in ranked if c.entry_id == entry.id)
            rival = next(c for c in ranked if c.entry_id != entry.id)
            if rival.score >= own:
                report.errors.append(
                    f"faq.yaml entry {entry.id}: phrasing {phrasing!r} matches entry "
                    f"{rival.entry_id} ({rival.score:.0f}) at least as well as its own ({own:.0f})"
                )
                continue
            if phrasing == entry.question:
                continue
            held_out = matcher.decide(matcher.scores(phrasing, holding_out=(entry.id, phrasing)))
            if held_out.outcome == "answer" and held_out.best and held_out.best.entry_id != entry.id:
                report.overlaps.append(
                    f"faq.yaml entry {entry.id}: alternate {phrasing!r}, as unseen text, would be "
                    f"answered as entry {held_out.best.entry_id} ({held_out.best.score:.0f})"
                )


def check_examples(faq: Faq, matcher: FaqMatcher, report: Report) -> None:
    """The classifier's training examples (content/examples/) must not contradict each other or
    the FAQ: the same message (after normalising) labelled two ways, or a message the bot is not
    for that is word for word one of the FAQ's phrasings, would teach it both answers."""
    read = matcher.normaliser.normalise
    phrasings = {read(p): e.id for e in faq.entries for p in e.phrasings}
    seen: dict[str, tuple[str | None, str]] = {}
    for example in faq.examples:
        text = read(example.text)
        label = example.entry or "out of scope"
        if text in seen and seen[text][0] != example.entry:
            other, batch = seen[text]
            report.errors.append(
                f"examples/{example.batch}.yaml: {example.text!r} is labelled {label}, but "
                f"examples/{batch}.yaml labels the same message {other or 'out of scope'}"
            )
        seen.setdefault(text, (example.entry, example.batch))
        if example.entry is None and text in phrasings:
            report.errors.append(
                f"examples/{example.batch}.yaml: {example.text!r} is listed as out of scope, but it "
                f"is a phrasing of entry {phrasings[text]}"
            )


def check_reviews(faq: Faq, today: dt.date, report: Report) -> None:
    for entry in faq.entries:
        if entry.review.overdue(today):
            report.warnings.append(
                f"faq.yaml entry {entry.id}: review overdue since {entry.review.review_by} "
                f"(owner: {entry.review.owner})"
            )


def heading_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to
    hyphens ("Sharing nudes and semi-nudes (UKCIS, with the NPCC)" ->
    "sharing-nudes-and-semi-nudes-ukcis-with-the-npcc")."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def reference_anchors(reference_dir: Path) -> dict[str, set[str]]:
    """What each reference document can be cited by: guidance.md's heading slugs, contacts.yaml's
    service ids, practice.md's topic ids (the first word of each ``## `` heading)."""
    guidance = (reference_dir / "guidance.md").read_text(encoding="utf-8")
    headings = {
        heading_slug(line.lstrip("#")) for line in guidance.splitlines() if re.match(r"#{1,6} ", line)
    }
    anchors = {"guidance.md": headings, "contacts.yaml": set(read_reference_contacts(reference_dir))}
    practice = reference_dir / "practice.md"
    anchors["practice.md"] = (
        {line[3:].split()[0] for line in practice.read_text(encoding="utf-8").splitlines() if line.startswith("## ")}
        if practice.exists()
        else set()
    )
    return anchors


def read_reference_contacts(reference_dir: Path) -> dict[str, dict]:
    """contacts.yaml's services by id, parsed as the strict YAML it is."""
    data = yaml.safe_load((reference_dir / "contacts.yaml").read_text(encoding="utf-8"))
    return {service["id"]: service for service in data["services"]}


def check_contacts_against_reference(content_dir: Path | None, reference_dir: Path | None, report: Report) -> None:
    """Every national route's phone, email and web address is the reference's, character for
    character, and every reference service is a route: a changed number there fails here."""
    from knowledge.referrals import ReferralContentError, load_directory

    reference_dir = reference_dir or REFERENCE_DIR
    if not (reference_dir / "contacts.yaml").exists():
        report.notes.append(f"contact details not compared: no contacts.yaml in {reference_dir}")
        return
    if content_dir is not None and not (content_dir / "referrals.yaml").exists():
        return
    try:
        directory = load_directory(content_dir)
    except ReferralContentError:
        return  # check_other_content reports why it does not load
    services = read_reference_contacts(reference_dir)
    routes = {item.route.id: item.route for item in directory.all_routes().items if item.route.kind == "national"}
    for service_id in sorted(set(services) - set(routes)):
        report.errors.append(f"referrals.yaml: contacts.yaml service {service_id!r} has no route")
    for route_id in sorted(set(routes) - set(services)):
        report.errors.append(f"referrals.yaml: route {route_id!r} is not a contacts.yaml service")
    for service_id in sorted(set(services) & set(routes)):
        for field_name in ("phone", "email", "web"):
            ours, theirs = getattr(routes[service_id], field_name), services[service_id].get(field_name)
            if ours != theirs:
                report.errors.append(
                    f"referrals.yaml: {service_id}.{field_name} is {ours!r}; contacts.yaml says {theirs!r}"
                )


def _strings(value: object):
    """Every string in parsed YAML, keys included (the flow's reference labels are keyed by
    citation)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def check_reference_citations(content_dir: Path | None, reference_dir: Path | None, report: Report) -> None:
    """Every ``guidance.md#slug`` and ``contacts.yaml#id`` in every content file names a real
    heading or service. One heading cited by two slugs would show two different labels on cards,
    and a slug that names no heading cites nothing."""
    reference_dir = reference_dir or REFERENCE_DIR
    if not ((reference_dir / "guidance.md").exists() and (reference_dir / "contacts.yaml").exists()):
        report.notes.append(
            f"reference citations not checked: no guidance.md and contacts.yaml in {reference_dir}"
        )
        return
    anchors = reference_anchors(reference_dir)
    for path in sorted((content_dir or CONTENT_DIR).glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue  # the file's own loader reports what is wrong with it
        seen: set[str] = set()
        for text in _strings(data):
            for match in _CITATION.finditer(text):
                citation = match.group(0)
                if citation in seen:
                    continue
                seen.add(citation)
                document, anchor = match.group("document"), match.group("anchor")
                if anchor in anchors[document]:
                    continue
                near = sorted(a for a in anchors[document] if a.startswith(anchor) or anchor.startswith(a))
                hint = f" (did you mean {document}#{near[0]}?)" if len(near) == 1 else ""
                kind = {"guidance.md": "heading", "contacts.yaml": "service id", "practice.md": "topic"}[document]
                report.errors.append(f"{path.name}: {citation} names no {kind} in the shared reference{hint}")


def check_content(
    content_dir: Path | None = None, today: dt.date | None = None, reference_dir: Path | None = None
) -> Report:
    report = Report()
    check_reference_citations(content_dir, reference_dir, report)
    check_contacts_against_reference(content_dir, reference_dir, report)
    try:
        faq = load_faq(content_dir)
    except ContentError as exc:
        report.errors.append(str(exc))
        return report
    check_citations(faq, report)
    check_answer_text(faq, report)
    # the phrasings' overlaps are a lexical question; the classifier is trained and measured
    # by `make eval` and its tests, not here
    matcher = FaqMatcher(faq, use_classifier=False)
    check_alternates(faq, matcher, report)
    check_examples(faq, matcher, report)
    check_reviews(faq, today or dt.date.today(), report)
    check_other_content(content_dir, today or dt.date.today(), report)
    return report


def check_other_content(content_dir: Path | None, today: dt.date, report: Report) -> None:
    """The rest of the content the bot loads at start-up (wording, triage rules, the disclosure
    guide, the referral directory): each must load, so a mistake fails here, not at deploy."""
    from knowledge.disclosure import load_flow
    from knowledge.messages import load_messages
    from knowledge.referrals import load_directory
    from knowledge.triage import load_triage_rules

    loaders = {
        "messages.yaml": lambda: load_messages(content_dir),
        "triage.yaml": lambda: load_triage_rules(content_dir / "triage.yaml" if content_dir else None),
        "disclosure.yaml": lambda: load_flow(content_dir),
        "referrals.yaml": lambda: load_directory(content_dir),
    }
    for name, load in loaders.items():
        if content_dir is not None and not (content_dir / name).exists():
            continue  # a content folder holding only an FAQ (tests, drafts): check what is there
        try:
            loaded = load()
        except Exception as exc:  # noqa: BLE001 - every loader's own error names the file and field
            report.errors.append(f"{name}: {exc}")
            continue
        review = getattr(loaded, "review", None)
        if review is not None and review.overdue(today):
            report.warnings.append(f"{name}: review was due by {review.review_by}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate the knowledge content.")
    parser.add_argument("--content-dir", type=Path, default=None)
    parser.add_argument(
        "--reference-dir", type=Path, default=None, help="the shared reference (default ../shared/reference)"
    )
    parser.add_argument(
        "--today", type=dt.date.fromisoformat, default=None, help="date for overdue reviews (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="list alternates that overlap another entry"
    )
    args = parser.parse_args(argv)
    report = check_content(args.content_dir, args.today, args.reference_dir)
    if args.verbose:
        for overlap in report.overlaps:
            print(f"OVERLAP: {overlap}")
    elif report.overlaps:
        print(
            f"note: {len(report.overlaps)} alternate(s) would, as unseen text, be answered as "
            "another entry (run `python -m knowledge.check --verbose` to list them)"
        )
    for note in report.notes:
        print(f"note: {note}")
    for warning in report.warnings:
        print(f"WARNING: {warning}")
    for error in report.errors:
        print(f"ERROR: {error}")
    if report.ok:
        print(f"content OK ({len(report.warnings)} warning(s))")
        return 0
    print(f"content check FAILED: {len(report.errors)} error(s)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
