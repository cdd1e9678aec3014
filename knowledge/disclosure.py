"""The "a child has just disclosed" guide as data: steps, choices, and what the path taken advised.

Plain Python (no botbuilder): the dialog in ``dialogs/disclosure_dialog.py`` runs the mechanics,
this module knows the content. Everything the guide says comes from
``content/disclosure.yaml``, which is validated when loaded so that a broken flow (a choice that
leads nowhere, a step nobody can reach, an uncited line of advice) stops start-up instead of
stranding a practitioner mid-flow.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import field_validator, model_validator
from rapidfuzz.distance import OSA

from knowledge.models import Review, Source, Strict, load_yaml_model
from knowledge.models import REFERENCE_CITATION, REFERENCE_CITATION_FORMS
from knowledge.yamlio import safe_load

CONTENT_DIR = Path(__file__).parent / "content"
FLOW_FILE = "disclosure.yaml"
UK_TIME = ZoneInfo("Europe/London")

#: Control ids the dialog acts on. Their wording is content; their meaning is code.
CONTROL_IDS = ("back", "restart", "cancel", "help")


class FlowContentError(ValueError):
    """The flow content must not ship: the message names the file and what is wrong."""


# ------------------------------------------------------------------------------------ models


class Item(Strict):
    """One line of advice (optionally with sub-points), its sources and its summary line."""

    text: str
    points: tuple[str, ...] = ()
    summary: str | None = None
    sources: tuple[Source, ...]

    @field_validator("sources")
    @classmethod
    def _cited(cls, value: tuple[Source, ...]) -> tuple[Source, ...]:
        if not value:
            raise ValueError("every item of advice cites at least one source")
        return value


class FlowChoice(Strict):
    id: str
    title: str
    synonyms: tuple[str, ...] = ()
    next: str | None = None
    intent: Literal["yes", "no", "not_sure"] | None = None
    emergency: bool = False


class Step(Strict):
    id: str
    title: str
    text: str | None = None
    items: tuple[Item, ...] = ()
    sources: tuple[Source, ...] = ()
    services: tuple[str, ...] = ()
    choices: tuple[FlowChoice, ...] = ()
    referral_routes: bool = False
    ends_flow: bool = False

    @model_validator(mode="after")
    def _shape(self) -> "Step":
        if self.ends_flow and self.choices:
            raise ValueError(f"step {self.id}: the closing step offers no choices")
        if not self.ends_flow and not self.choices:
            raise ValueError(f"step {self.id}: a step that does not end the flow needs choices")
        if self.text and not self.sources and not self.items:
            raise ValueError(f"step {self.id}: text without items cites its sources")
        ids = [choice.id for choice in self.choices]
        if len(ids) != len(set(ids)):
            raise ValueError(f"step {self.id}: duplicate choice ids")
        clashes = set(ids) & set(CONTROL_IDS)
        if clashes:
            raise ValueError(f"step {self.id}: choice ids {sorted(clashes)} are reserved for controls")
        return self


class Control(Strict):
    id: Literal["back", "restart", "cancel", "help"]
    title: str
    synonyms: tuple[str, ...] = ()


class FlowMessages(Strict):
    """The guide's own fixed wording; every key is required, so a missing one fails at load.

    The 999 line is not here: the guide says the bot's shared ``emergency`` message
    (messages.yaml), so the words a practitioner sees in an emergency are the same everywhere."""

    identifying_details: str
    resume: str
    not_understood: str
    help: str
    cancelled: str
    restarted: str
    first_step: str
    stale_choice: str
    expired: str
    summary_title: str
    summary_started: str
    summary_intro: str
    summary_copy: str
    sources_label: str


class FlowFile(Strict):
    version: int
    review: Review
    start: str
    controls: tuple[Control, ...]
    steps: tuple[Step, ...]
    messages: FlowMessages
    reference_labels: dict[str, str] = {}


# ------------------------------------------------------------------------------ value objects


@dataclass(frozen=True)
class Summary:
    """What the practitioner was advised to do, ready to copy into their own record system."""

    title: str
    started: str
    intro: str
    lines: tuple[str, ...]

    def as_text(self) -> str:
        checklist = "\n".join(f"- {line}" for line in self.lines)
        return f"{self.title}\n{self.started}\n\n{self.intro}\n{checklist}"


# ---------------------------------------------------------------------------- text handling


_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_NUMBER = re.compile(r"^(?:option|number|no|choice)?\s*(\d{1,2})$")


def fold(text: str) -> str:
    """Lower-case, accents and apostrophes dropped, punctuation to single spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def _allowed_edits(candidate: str) -> int:
    """Typos tolerated for a phrasing of this length: none for 1-2 letters, more for long ones."""
    length = len(candidate)
    if length < 3:
        return 0
    if length <= 7:
        return 1
    if length <= 15:
        return 2
    return 3


_QUESTION_STARTS = frozenset(
    "what whats how who whos where when why which can could should shall do does did is are will "
    "would tell explain".split()
)


def looks_like_question(text: str) -> bool:
    """Worth asking the FAQ about mid-flow: a question mark, a question word, or a few words.

    A stray "ok" or "finish" at the wrong step is a flow answer gone astray, not a question.
    """
    typed = fold(text)
    words = typed.split()
    if not words:
        return False
    return text.strip().endswith("?") or words[0] in _QUESTION_STARTS or len(words) >= 3


# ------------------------------------------------------------------------------------ flow


class DisclosureFlow:
    """The validated guide: look up steps, read typed answers, summarise the path taken."""

    def __init__(self, content: FlowFile, section_titles: dict[str, str]) -> None:
        self.content = content
        self.messages = content.messages
        self._steps = {step.id: step for step in content.steps}
        self._controls = {control.id: control for control in content.controls}
        self._section_titles = section_titles
        self._phrasings = {step.id: self._phrasings_for(step.id) for step in content.steps}

    # ----------------------------------------------------------------- structure

    @property
    def start(self) -> str:
        return self.content.start

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(self._steps)

    def step(self, step_id: str) -> Step:
        try:
            return self._steps[step_id]
        except KeyError:
            raise KeyError(f"no step {step_id!r} in the disclosure flow") from None

    def has_step(self, step_id: str) -> bool:
        return step_id in self._steps

    def control(self, control_id: str) -> Control:
        return self._controls[control_id]

    def buttons(self, step_id: str) -> tuple[tuple[str, str], ...]:
        """(id, title) of every button a step shows, in order: its choices, then the controls.

        Typed numbers count in this order too, so "4" means the fourth button on the card.
        """
        step = self.step(step_id)
        buttons = [(choice.id, choice.title) for choice in step.choices]
        if step.ends_flow:
            return tuple(buttons)
        offered = ("cancel",) if step_id == self.start else ("back", "restart", "cancel")
        buttons.extend((cid, self._controls[cid].title) for cid in offered if cid in self._controls)
        return tuple(buttons)

    def choice(self, step_id: str, choice_id: str) -> FlowChoice | None:
        return next((c for c in self.step(step_id).choices if c.id == choice_id), None)

    def choice_anywhere(self, choice_id: str) -> FlowChoice | None:
        """A choice of any step: a click on a card from an earlier step still says what it meant."""
        for step in self._steps.values():
            for choice in step.choices:
                if choice.id == choice_id:
                    return choice
        return None

    def choice_for_intent(self, step_id: str, intent: str | None) -> str | None:
        if intent is None:
            return None
        return next((c.id for c in self.step(step_id).choices if c.intent == intent), None)

    def emergency_choice(self, step_id: str) -> str | None:
        return next((c.id for c in self.step(step_id).choices if c.emergency), None)

    def source_label(self, source: Source) -> str:
        if source.briefing:
            return self._section_titles.get(source.briefing, source.briefing)
        return self.content.reference_labels.get(source.reference or "", source.reference or "")

    def sources_of(self, step_id: str) -> tuple[str, ...]:
        """Distinct labels of everything a step cites, in first-cited order."""
        step = self.step(step_id)
        labels: list[str] = []
        for source in [*step.sources, *(s for item in step.items for s in item.sources)]:
            label = self.source_label(source)
            if label not in labels:
                labels.append(label)
        return tuple(labels)

    # ----------------------------------------------------------------- typed answers

    def _phrasings_for(self, step_id: str) -> tuple[tuple[str, str], ...]:
        step = self.step(step_id)
        pairs: list[tuple[str, str]] = []
        for choice in step.choices:
            for phrase in (choice.id, choice.title, *choice.synonyms):
                pairs.append((fold(phrase), choice.id))
        for control_id, _title in self.buttons(step_id)[len(step.choices) :]:
            control = self._controls[control_id]
            for phrase in (control.id, control.title, *control.synonyms):
                pairs.append((fold(phrase), control.id))
        if "help" in self._controls and not step.ends_flow:
            help_control = self._controls["help"]
            for phrase in (help_control.id, help_control.title, *help_control.synonyms):
                pairs.append((fold(phrase), "help"))
        return tuple((phrase, target) for phrase, target in pairs if phrase)

    def interpret_answer(self, step_id: str, text: str) -> str | None:
        """The choice (or control) id a typed answer means at this step, or None if unclear.

        Exact phrasings first, then a button number, then typos within a small edit distance.
        A typo that is as close to two different answers is not guessed at.
        """
        typed = fold(text)
        if not typed:
            return None
        phrasings = self._phrasings[step_id]
        for phrase, target in phrasings:
            if phrase == typed:
                return target
        number = _NUMBER.match(typed)
        if number:
            buttons = self.buttons(step_id)
            index = int(number.group(1)) - 1
            return buttons[index][0] if 0 <= index < len(buttons) else None
        if len(typed) < 3:
            return None
        best: dict[str, int] = {}
        for phrase, target in phrasings:
            distance = OSA.distance(typed, phrase, score_cutoff=_allowed_edits(phrase))
            if distance <= _allowed_edits(phrase):
                best[target] = min(distance, best.get(target, distance))
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda pair: pair[1])
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return None
        return ranked[0][0]

    def is_answer_elsewhere(self, text: str) -> bool:
        """True when the text is exactly an answer of some step (e.g. "continue" at the topic step)."""
        typed = fold(text)
        return any(typed == phrase for pairs in self._phrasings.values() for phrase, _ in pairs)

    # ----------------------------------------------------------------- summary

    def summary(self, path_taken: Iterable[str], started_at: datetime) -> Summary:
        """The checklist of what was advised on the path taken, and when the guide started (UK time)."""
        lines: list[str] = []
        for step_id in path_taken:
            for item in self.step(step_id).items:
                if item.summary and item.summary not in lines:
                    lines.append(item.summary)
        if started_at.tzinfo is None:
            started_at = started_at.replace(tzinfo=timezone.utc)
        local = started_at.astimezone(UK_TIME)
        started = self.messages.summary_started.format(
            time=local.strftime("%H:%M"), date=f"{local.day} {local.strftime('%B %Y')}"
        )
        return Summary(
            title=self.messages.summary_title,
            started=started,
            intro=self.messages.summary_intro,
            lines=tuple(lines),
        )


# ---------------------------------------------------------------------------- loading


def _validate_graph(content: FlowFile, section_ids: set[str]) -> list[str]:
    problems: list[str] = []
    steps = {step.id: step for step in content.steps}
    if len(steps) != len(content.steps):
        problems.append("duplicate step ids")
    if content.start not in steps:
        problems.append(f"start step {content.start!r} does not exist")
        return problems
    control_ids = [control.id for control in content.controls]
    if sorted(control_ids) != sorted(CONTROL_IDS):
        problems.append(f"controls must be exactly {list(CONTROL_IDS)}")
    for step in content.steps:
        for choice in step.choices:
            if choice.next is None or choice.next not in steps:
                problems.append(f"step {step.id}, choice {choice.id}: next step {choice.next!r} does not exist")
        cited = [*step.sources, *(s for item in step.items for s in item.sources)]
        for source in cited:
            if source.briefing and source.briefing not in section_ids:
                problems.append(f"step {step.id}: unknown briefing section {source.briefing!r}")
            if source.reference and not REFERENCE_CITATION.match(source.reference):
                problems.append(f"step {step.id}: reference {source.reference!r} is not " + REFERENCE_CITATION_FORMS)
    reachable: set[str] = set()
    frontier = [content.start]
    while frontier:
        step_id = frontier.pop()
        if step_id in reachable or step_id not in steps:
            continue
        reachable.add(step_id)
        frontier.extend(c.next for c in steps[step_id].choices if c.next)
    unreachable = sorted(set(steps) - reachable)
    if unreachable:
        problems.append(f"steps nobody can reach: {unreachable}")
    if not any(steps[s].ends_flow for s in reachable):
        problems.append("no reachable step ends the flow")
    return problems


def _section_titles(content_dir: Path) -> dict[str, str]:
    path = content_dir / "briefing_sections.yaml"
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
        return {section["id"]: section["title"] for section in data["sections"]}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise FlowContentError(f"{path}: cannot read briefing sections: {error}") from error


def load_flow(content_dir: Path | None = None) -> DisclosureFlow:
    """Read and validate ``disclosure.yaml``; raise FlowContentError naming what is wrong."""
    directory = content_dir or CONTENT_DIR
    path = directory / FLOW_FILE
    content = load_yaml_model(path, FlowFile, FlowContentError)
    titles = _section_titles(directory)
    problems = _validate_graph(content, set(titles))
    if problems:
        raise FlowContentError(f"{path}: " + "; ".join(problems))
    return DisclosureFlow(content, titles)
