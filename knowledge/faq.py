"""The practitioner FAQ: typed models of ``content/faq.yaml`` and ``content/synonyms.yaml``.

The content is reviewed by a safeguarding lead as YAML, so the models are strict (unknown keys are
errors) and ``load_faq`` fails fast with a message naming the file and the field: an empty or
half-loaded FAQ would make the bot quietly answer "I don't know" to everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from knowledge.models import Review, Source, Strict
from knowledge.yamlio import safe_load

CONTENT_DIR = Path(__file__).resolve().parent / "content"

FAQ_FILE = "faq.yaml"
SYNONYMS_FILE = "synonyms.yaml"
SECTIONS_FILE = "briefing_sections.yaml"
#: Training examples for the matcher's classifier (``knowledge/classifier.py``), one file per batch.
EXAMPLES_DIR = "examples"

#: Services an entry may name; contact details come from the referral directory, never the FAQ.
SERVICE_IDS: frozenset[str] = frozenset(
    {
        "emergency",
        "police_non_emergency",
        "nspcc_helpline",
        "childline",
        "report_remove",
        "iwf",
        "ceop",
        "posh",
        "stop_it_now",
        "nspcc_whistleblowing",
        "marie_collins_foundation",
    }
)

_ID = r"^[a-z0-9][a-z0-9-]*$"


class ContentError(Exception):
    """Content that cannot be trusted: the message names the file and the field to fix."""


class Topic(Strict):
    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class FaqEntry(Strict):
    id: str = Field(pattern=_ID)
    topic: str
    question: str
    alternates: list[str] = Field(default_factory=list)
    answer: str
    detail: str | None = None
    services: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    related: list[str] = Field(default_factory=list)
    review: Review

    @field_validator("question", "answer")
    @classmethod
    def _text_non_blank(cls, value: str) -> str:
        return _non_blank(value)

    @field_validator("alternates")
    @classmethod
    def _alternates_non_blank(cls, values: list[str]) -> list[str]:
        for value in values:
            _non_blank(value)
        return values

    @field_validator("services")
    @classmethod
    def _known_services(cls, values: list[str]) -> list[str]:
        unknown = sorted(set(values) - SERVICE_IDS)
        if unknown:
            raise ValueError(f"unknown service id(s) {unknown}; known: {sorted(SERVICE_IDS)}")
        return values

    @property
    def phrasings(self) -> tuple[str, ...]:
        """Every way this entry is asked: the question first, then the alternates."""
        return (self.question, *self.alternates)


class FaqFile(Strict):
    version: Literal[1]
    topics: list[Topic] = Field(min_length=1)
    entries: list[FaqEntry] = Field(min_length=1)


class Synonyms(Strict):
    """Data for the normaliser: how practitioners write things, mapped to how the FAQ says them."""

    version: Literal[1] = 1
    abbreviations: dict[str, str] = Field(default_factory=dict)
    spelling: dict[str, str] = Field(default_factory=dict)
    phrases: dict[str, str] = Field(default_factory=dict)


class LabelledMessage(Strict):
    text: str = Field(min_length=1)
    expect: str = Field(pattern=_ID)  # the entry this message should reach
    accept: list[str] = []  # other entries that would also be a right answer


class UnlabelledMessage(Strict):
    text: str = Field(min_length=1)


class ExamplesFile(Strict):
    """Realistic practitioner messages, labelled, and messages the bot is not for: the
    classifier's training data beside the entries' own phrasings. Each file is one batch written
    apart from the others, so calibration can train on some batches and measure on the rest."""

    version: Literal[1]
    # false for a batch written to teach one distinction (e.g. the right terms used in practical
    # questions): it is always trained on, but calibration does not measure on it, because its
    # error while held out says how new that distinction is, not how ordinary traffic fares
    calibrate: bool = True
    in_scope: list[LabelledMessage] = []
    out_of_scope: list[UnlabelledMessage] = []


@dataclass(frozen=True)
class Example:
    """One training message: ``entry`` is None for a message the bot is not for."""

    text: str
    entry: str | None
    batch: str
    also_right: tuple[str, ...] = ()  # other entries that would also be a right answer
    calibrate: bool = True  # measured on by the blend calibration (see ExamplesFile)


class BriefingSection(Strict):
    id: str = Field(pattern=_ID)
    title: str
    covers: str


class ReferenceLabel(Strict):
    """How a reference fact is named to a practitioner on a card ("UKCIS advice: ...")."""

    id: str
    label: str


class BriefingSections(Strict):
    sections: list[BriefingSection] = Field(min_length=1)
    references: list[ReferenceLabel] = []


@dataclass(frozen=True)
class Faq:
    """The loaded FAQ: topics and entries in file order, the synonym map and the briefing sections."""

    topics: tuple[Topic, ...]
    entries: tuple[FaqEntry, ...]
    synonyms: Synonyms
    sections: tuple[BriefingSection, ...] = ()
    reference_labels: Mapping[str, str] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    _index: dict[str, FaqEntry] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({entry.id: entry for entry in self.entries})

    def by_id(self) -> Mapping[str, FaqEntry]:
        """Entries by id (read-only view; not copied, so cheap to call per turn)."""
        return MappingProxyType(self._index)

    def entry(self, entry_id: str) -> FaqEntry | None:
        return self._index.get(entry_id)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def entries_in(self, topic_id: str) -> tuple[FaqEntry, ...]:
        return tuple(e for e in self.entries if e.topic == topic_id)

    def section(self, section_id: str) -> BriefingSection | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def reference_label(self, reference: str) -> str | None:
        return self.reference_labels.get(reference)


def _read_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found") from None
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        raise ContentError(f"{path}: file is empty")
    return data


def _describe(data: object, loc: tuple) -> str:
    """Turn a pydantic error location into ``entries[3] (id: foo).answer`` so a reviewer can find it."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and 0 <= key < len(node):
                node = node[key]
                if isinstance(node, dict) and "id" in node:
                    label += f" (id: {node['id']})"
            else:
                node = None
            parts.append(label)
        else:
            node = node.get(key) if isinstance(node, dict) else None
            parts.append(("." if parts else "") + str(key))
    return "".join(parts) or "(top level)"


def _validate(model: type[Strict], path: Path) -> Strict:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"  {_describe(data, err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ContentError(f"{path}: invalid content:\n" + "\n".join(problems)) from None


def load_faq(content_dir: Path | None = None) -> Faq:
    """Load and validate the FAQ, synonyms and briefing sections from ``content_dir``.

    Schema errors raise ``ContentError`` naming the file and field. Cross-references (topics,
    related ids, duplicate ids) are also fatal here, because the cards link by id and a dangling
    id would be a button that does nothing.
    """
    directory = content_dir or CONTENT_DIR
    faq_file = _validate(FaqFile, directory / FAQ_FILE)
    synonyms = _validate(Synonyms, directory / SYNONYMS_FILE)
    sections_path = directory / SECTIONS_FILE
    briefing = _validate(BriefingSections, sections_path) if sections_path.exists() else None
    sections = briefing.sections if briefing else []
    labels = {ref.id: ref.label for ref in briefing.references} if briefing else {}
    assert isinstance(faq_file, FaqFile) and isinstance(synonyms, Synonyms)
    problems = cross_reference_problems(faq_file)
    if problems:
        raise ContentError(f"{directory / FAQ_FILE}: bad ids:\n" + "\n".join(f"  {p}" for p in problems))
    examples = load_examples(directory / EXAMPLES_DIR, {entry.id for entry in faq_file.entries})
    return Faq(tuple(faq_file.topics), tuple(faq_file.entries), synonyms, tuple(sections), labels, examples)


def load_examples(directory: Path, entry_ids: set[str]) -> tuple[Example, ...]:
    """The classifier's labelled messages from every ``*.yaml`` in ``directory`` (none if it does
    not exist). A label that names no entry is fatal: it would teach the classifier a class the
    bot cannot answer."""
    examples: list[Example] = []
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
        batch = _validate(ExamplesFile, path)
        assert isinstance(batch, ExamplesFile)
        unknown = sorted(
            {label for m in batch.in_scope for label in (m.expect, *m.accept) if label not in entry_ids}
        )
        if unknown:
            raise ContentError(f"{path}: labels that name no FAQ entry: {', '.join(unknown)}")
        examples += [Example(m.text, m.expect, path.stem, tuple(m.accept), batch.calibrate) for m in batch.in_scope]
        examples += [Example(m.text, None, path.stem, (), batch.calibrate) for m in batch.out_of_scope]
    return tuple(examples)


def _duplicates(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({i for i in ids if i in seen or seen.add(i)})


def cross_reference_problems(faq_file: FaqFile) -> list[str]:
    """Ids that must be unique or must resolve; each problem names the entry."""
    problems: list[str] = []
    for dup in _duplicates([t.id for t in faq_file.topics]):
        problems.append(f"topics: duplicate id {dup!r}")
    for dup in _duplicates([e.id for e in faq_file.entries]):
        problems.append(f"entries: duplicate id {dup!r}")
    topic_ids = {t.id for t in faq_file.topics}
    entry_ids = {e.id for e in faq_file.entries}
    for entry in faq_file.entries:
        if entry.topic not in topic_ids:
            problems.append(f"entries (id: {entry.id}).topic: unknown topic {entry.topic!r}")
        for rel in entry.related:
            if rel not in entry_ids:
                problems.append(f"entries (id: {entry.id}).related: unknown entry id {rel!r}")
            elif rel == entry.id:
                problems.append(f"entries (id: {entry.id}).related: refers to itself")
    return problems

