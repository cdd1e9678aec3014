"""Shared content models: where a fact comes from, and when it is next reviewed.

Pydantic does the schema validation (``make check-content``); nothing here knows about the bot.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TypeVar

import yaml

from knowledge.yamlio import safe_load
from pydantic import BaseModel, ConfigDict, HttpUrl, ValidationError, model_validator


#: How content cites the shared reference: ``contacts.yaml#<service id>``, ``guidance.md#<heading
#: slug>`` or ``practice.md#<topic id>``. One pattern for the FAQ check and the guide's loader.
REFERENCE_CITATION = re.compile(
    r"^(?:contacts\.yaml#(?P<service>[a-z_]+)|guidance\.md#[a-z0-9-]+|practice\.md#[a-z0-9-]+)$"
)
REFERENCE_CITATION_FORMS = "'contacts.yaml#<service id>', 'guidance.md#<heading slug>' or 'practice.md#<topic id>'"


class Strict(BaseModel):
    """Content models reject unknown keys, so a typo in YAML is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """One citation: a briefing section id, or a reference fact (file#id) with its public URL."""

    briefing: str | None = None
    reference: str | None = None
    url: HttpUrl | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Source":
        if bool(self.briefing) == bool(self.reference):
            raise ValueError("a source cites either `briefing` (a section id) or `reference` (file#id)")
        return self


class Review(Strict):
    owner: str
    last_reviewed: dt.date
    review_by: dt.date

    @model_validator(mode="after")
    def _order(self) -> "Review":
        if self.review_by < self.last_reviewed:
            raise ValueError("review_by is before last_reviewed")
        return self

    def overdue(self, today: dt.date) -> bool:
        return today > self.review_by


Model = TypeVar("Model", bound=BaseModel)


def load_yaml_model(path: Path, model: type[Model], error: type[Exception]) -> Model:
    """Read one content file and validate it; on any problem raise ``error`` with a message that
    names the file and each field at fault (``routes.3.phone: ...``)."""
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: cannot read: file not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise error(f"{path}: cannot read: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors())
        raise error(f"{path}: {problems}") from None
